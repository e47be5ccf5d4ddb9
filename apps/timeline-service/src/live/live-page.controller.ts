import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { SqliteReadModel } from '@timeline/projections';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlugParam } from '../common/route-params';
import { indexPage, livePage, notFoundPage } from './page/live-page.html';

// Read once at start: two small files, copied next to the compiled code by nest-cli.json's assets.
const ASSETS: Record<string, { type: string; body: string }> = {
  'live.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'page', 'live.js'), 'utf8') },
  'live.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'page', 'live.css'), 'utf8') },
};

/** The newsroom pages: an index of timelines and a live page per timeline. */
@Controller()
export class LivePageController {
  constructor(private readonly readModel: SqliteReadModel) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return indexPage(this.readModel.timelines());
  }

  @Get('timelines/:slug/live')
  live(@Param('slug', SlugParam) slug: string, @Res() response: Response): void {
    const timeline = this.readModel.timeline(slug);
    response.type('html');
    if (!timeline) response.status(404).send(notFoundPage(slug));
    else response.send(livePage(timeline));
  }

  @Get('live/assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) throw new NotFoundException(`no asset ${file}`);
    response.type(asset.type).setHeader('cache-control', 'public, max-age=300');
    response.send(asset.body);
  }
}
