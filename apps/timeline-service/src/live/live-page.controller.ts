import { Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import type { Response } from 'express';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlugParam } from '../common/route-params';
import { indexPage, livePage, notFoundPage } from './page/live-page.html';

type Asset = { type: string; body: string };
const JAVASCRIPT = 'text/javascript; charset=utf-8';

// Read once at start: small files, copied next to the compiled code by nest-cli.json's assets.
const ASSETS: Record<string, Asset> = {
  'live.js': { type: JAVASCRIPT, body: readFileSync(join(__dirname, 'page', 'live.js'), 'utf8') },
  'live.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'page', 'live.css'), 'utf8') },
};

// @timeline/client as ES modules (index.js, http-client.js, ...), which live.js
// imports: built from libs/client by libs/client/build-browser.ts.
const CLIENT_DIR = join(__dirname, 'page', 'client');
const CLIENT_ASSETS: Record<string, Asset> = Object.fromEntries(
  readdirSync(CLIENT_DIR)
    .filter((name) => name.endsWith('.js'))
    .map((name) => [name, { type: JAVASCRIPT, body: readFileSync(join(CLIENT_DIR, name), 'utf8') }]),
);

/** The newsroom pages: an index of timelines and a live page per timeline. */
@Controller()
export class LivePageController {
  constructor(@Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel) {}

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
    send(response, Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined, file);
  }

  @Get('live/assets/client/:file')
  clientAsset(@Param('file') file: string, @Res() response: Response): void {
    send(response, Object.hasOwn(CLIENT_ASSETS, file) ? CLIENT_ASSETS[file] : undefined, `client/${file}`);
  }
}

function send(response: Response, asset: Asset | undefined, name: string): void {
  if (!asset) throw new NotFoundException(`no asset ${name}`);
  response.type(asset.type).setHeader('cache-control', 'public, max-age=300');
  response.send(asset.body);
}
