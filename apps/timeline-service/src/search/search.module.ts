import { Module } from '@nestjs/common';
import { SearchController } from './search.controller';

/** GET /search: full-text search across timelines, answered by the read model (its index: search-index.ts). */
@Module({ controllers: [SearchController] })
export class SearchModule {}
