import { applyDecorators, Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { TIMELINE_READ_MODEL, type TimelineReadModel, type TimelineView } from '@timeline/projections';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlugParam } from '../common/route-params';
import { ApiErrors, ApiSlugParam, ApiTextResponse } from '../openapi/decorators';
import { liveClientModules } from './page/client-modules';
import { embedPage, indexPage, livePage, notFoundPage } from './page/live-page.html';

type Asset = { type: string; body: string };
const JAVASCRIPT = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The embed's route: its own framing rules (EmbedFramingMiddleware, applied by LiveModule). */
export const EMBED_ROUTE = 'timelines/:slug/embed';

// Read once at start: small files, copied next to the compiled code by nest-cli.json's assets.
const ASSETS: Record<string, Asset> = {
  'live.js': { type: JAVASCRIPT, body: readFileSync(join(__dirname, 'page', 'live.js'), 'utf8') },
  'live.css': { type: CSS, body: readFileSync(join(__dirname, 'page', 'live.css'), 'utf8') },
  'embed.css': { type: CSS, body: readFileSync(join(__dirname, 'page', 'embed.css'), 'utf8') },
};

// @timeline/client as ES modules, which live.js imports (see client-modules.ts).
const CLIENT_ASSETS: Record<string, Asset> = Object.fromEntries(
  [...liveClientModules()].map(([name, body]) => [name, { type: JAVASCRIPT, body }]),
);

/** The newsroom pages: an index of timelines, and a live page and an embed per timeline. */
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
  @ApiLivePage()
  live(@Param('slug', SlugParam) slug: string, @Res() response: Response): void {
    this.page(slug, response, (timeline) => livePage(timeline));
  }

  @Get(EMBED_ROUTE)
  @ApiOperation({
    summary: "A timeline's live view for an <iframe> in an article",
    description:
      'The live page, compact: no navigation, fits columns down to 300 px, light or dark as the reader’s system (prefers-color-scheme), ' +
      'resumes like the live page. Only the service itself and the sites of EMBED_ORIGINS may frame it (Content-Security-Policy ' +
      'frame-ancestors; no X-Frame-Options): `<iframe src="https://timelines.example/timelines/<slug>/embed" width="100%" height="600"></iframe>`.',
  })
  @ApiLivePage()
  embed(@Param('slug', SlugParam) slug: string, @Res() response: Response): void {
    this.page(slug, response, (timeline) => embedPage(timeline), { embed: true });
  }

  private page(slug: string, response: Response, render: (timeline: TimelineView) => string, options: { embed?: boolean } = {}): void {
    const timeline = this.readModel.timeline(slug);
    response.type('html');
    if (!timeline) response.status(404).send(notFoundPage(slug, options));
    else response.send(render(timeline));
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

function ApiLivePage() {
  return applyDecorators(
    ApiSlugParam(),
    ApiTextResponse(200, 'An HTML page.', ['text/html']),
    ApiTextResponse(404, 'No such timeline (an HTML page).', ['text/html']),
  );
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
