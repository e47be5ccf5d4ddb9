import type BetterSqlite3 from 'better-sqlite3';

/**
 * Opens a SQLite file with the build of better-sqlite3 that is safe on the
 * running Node. Both are dependencies (package.json), because neither works on
 * both of the Nodes we support:
 * - better-sqlite3 12 wraps its objects in node::ObjectWrap, whose destructor
 *   on Node 24 checks for a current Environment. When V8 frees a statement from
 *   a GC that runs outside any JavaScript (a background task), that check
 *   aborts the process (SIGABRT, "Assertion failed: (env) != nullptr" in
 *   RemoveEnvironmentCleanupHook). Seen here: the service restarted after
 *   `timeline rebuild` died that way on Node 24.21 in the acceptance suite.
 * - better-sqlite3 13 (Node-API, installed as better-sqlite3-napi, prebuilt)
 *   needs Node 22 and crashes with a segmentation fault on Node 20.
 * Their JavaScript API is the same, so one type serves both.
 */
export function openSqlite(file: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  return new (driver())(file, options);
}

let loaded: typeof BetterSqlite3 | undefined;

function driver(): typeof BetterSqlite3 {
  if (!loaded) {
    const major = Number(process.versions.node.split('.')[0]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- chosen at run time, by Node version
    loaded = (major >= 22 ? require('better-sqlite3-napi') : require('better-sqlite3')) as typeof BetterSqlite3;
  }
  return loaded;
}
