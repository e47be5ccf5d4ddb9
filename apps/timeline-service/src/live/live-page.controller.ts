import { applyDecorators, Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlugParam } from '../common/route-params';
import { ApiErrors, ApiSlugParam, ApiTextResponse } from '../openapi/decorators';
import { liveClientModules } from './page/client-modules';
import { indexPage, livePage, notFoundPage } from './page/live-page.html';

type Asset = { type: string; body: string };
const JAVASCRIPT = 'text/javascript; charset=utf-8';

// Read once at start: small files, copied next to the compiled code by nest-cli.json's assets.
const ASSETS: Record<string, Asset> = {
  'live.js': { type: JAVASCRIPT, body: readFileSync(join(__dirname, 'page', 'live.js'), 'utf8') },
  'live.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'page', 'live.css'), 'utf8') },
};

// @timeline/client as ES modules, which live.js imports (see client-modules.ts).
const CLIENT_ASSETS: Record<string, Asset> = Object.fromEntries(
  [...liveClientModules()].map(([name, body]) => [name, { type: JAVASCRIPT, body }]),
);

/** The newsroom pages: an index of timelines and a live page per timeline. */
@ApiTags('live page')
@Controller()
export class LivePageController {
  constructor(@Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel) {}

  @Get()
  @ApiOperation({ summary: 'Index of the timelines, with links to their live pages' })
  @ApiTextResponse(200, 'An HTML page.', ['text/html'])
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return indexPage(this.readModel.timelines());
  }

  @Get('timelines/:slug/live')
  @ApiOperation({ summary: "A timeline's live page: entries update as they are recorded, corrected and retracted" })
  @ApiSlugParam()
  @ApiTextResponse(200, 'An HTML page.', ['text/html'])
  @ApiTextResponse(404, 'No such timeline (an HTML page).', ['text/html'])
  live(@Param('slug', SlugParam) slug: string, @Res() response: Response): void {
    const timeline = this.readModel.timeline(slug);
    response.type('html');
    if (!timeline) response.status(404).send(notFoundPage(slug));
    else response.send(livePage(timeline));
  }

  @Get('live/assets/:file')
  @ApiLiveAsset()
  asset(@Param('file') file: string, @Res() response: Response): void {
    send(response, Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined, file);
  }

  @Get('live/assets/client/:file')
  @ApiLiveAsset()
  clientAsset(@Param('file') file: string, @Res() response: Response): void {
    send(response, Object.hasOwn(CLIENT_ASSETS, file) ? CLIENT_ASSETS[file] : undefined, `client/${file}`);
  }
}

function ApiLiveAsset() {
  return applyDecorators(
    ApiOperation({ summary: 'A script or stylesheet of the live page' }),
    ApiTextResponse(200, 'JavaScript or CSS.', ['text/javascript', 'text/css']),
    ApiErrors({ 404: 'No such asset.' }),
  );
}

function send(response: Response, asset: Asset | undefined, name: string): void {
  if (!asset) throw new NotFoundException(`no asset ${name}`);
  response.type(asset.type).setHeader('cache-control', 'public, max-age=300');
  response.send(asset.body);
}
