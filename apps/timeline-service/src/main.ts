import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DOMAIN_PROBE } from '@timeline/domain';
@Controller() class C { @Get('/health') h() { return { ok: DOMAIN_PROBE }; } }
@Module({ controllers: [C] }) class M {}
NestFactory.create(M).then(async (app) => { await app.listen(3999); console.log('up'); });
