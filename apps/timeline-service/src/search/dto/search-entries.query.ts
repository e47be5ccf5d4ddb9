import { EntryFiltersQuery, SearchText } from '../../entries/dto/list-entries.query';

/** GET /search: a listing's filters across every timeline, and the words to find. */
export class SearchEntriesQuery extends EntryFiltersQuery {
  @SearchText()
  q!: string;
}
