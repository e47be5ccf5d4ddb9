import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateNested } from 'class-validator';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateInto } from '../common/request-validation';
import { OpenTimelineDto } from '../timelines/dto/open-timeline.dto';

/** A seed file: one timeline and its entries, each entry a POST /timelines/:slug/entries body. */
export class SeedFile {
  @ValidateNested() @Type(() => OpenTimelineDto)
  timeline!: OpenTimelineDto;

  // Each entry is validated by RecordEntryPipe, like any request body.
  @IsArray() @IsObject({ each: true })
  entries!: Record<string, unknown>[];
}

export function readSeedFiles(dir: string): Array<{ file: string; seed: SeedFile }> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const file = join(dir, name);
    const seed = validateInto(SeedFile, JSON.parse(readFileSync(file, 'utf8')) as unknown);
    return { file, seed: JSON.parse(JSON.stringify(seed)) as SeedFile };
  });
}
