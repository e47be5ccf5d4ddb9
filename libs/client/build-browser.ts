/**
 * Builds the browser copy of @timeline/client that the service serves to its
 * live page: one ES module per source file. `npm run build` (and so `npm start`,
 * the image and the acceptance suite) runs it after `nest build`, writing next to
 * the compiled live page:
 *
 *   node -r @swc-node/register libs/client/build-browser.ts [<out dir>]
 *
 * When the service runs from its TypeScript sources (jest), the live page builds
 * the same modules in memory instead (apps/timeline-service/src/live/page/client-modules.ts),
 * so nothing generated is kept under src/.
 *
 * Why a build of our own: none of the ways the service runs has a bundler, and the
 * page must get the same client in all of them. TypeScript only strips types here
 * (transpileModule); two rewrites make the output loadable by a browser without an
 * import map (which helmet's CSP would refuse as an inline script):
 *   - relative imports get their `.js` extension, as browsers need;
 *   - 'socket.io-client' becomes the ESM build the socket.io server already
 *     serves, /socket.io/socket.io.esm.min.js: the same version as the server.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export const SOURCE_DIR = join(__dirname, 'src');
/** Where `npm run build` puts the modules: beside the compiled live page controller, which serves them. */
export const BUILT_DIR = join(__dirname, '..', '..', 'dist', 'apps', 'timeline-service', 'src', 'live', 'page', 'client');
/** Where the service's socket.io serves its client as an ES module (socket.io 4.8 serveClient). */
export const SOCKET_IO_ESM = '/socket.io/socket.io.esm.min.js';

const isLibraryFile = (name: string) => name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts');

/** File name → the ES module to serve. */
export function buildBrowserModules(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(SOURCE_DIR).filter(isLibraryFile).sort()) {
    const source = readFileSync(join(SOURCE_DIR, name), 'utf8');
    const { outputText: js } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, removeComments: false, sourceMap: false },
      reportDiagnostics: false,
      transformers: { after: [rewriteSpecifiers(name)] },
    });
    const header = `// Generated from libs/client/src/${name} by libs/client/build-browser.ts (npm run build).\n`;
    out.set(name.replace(/\.ts$/, '.js'), header + js);
  }
  return out;
}

/** Rewrites the module specifiers of import and export declarations (on the syntax tree, not the text). */
function rewriteSpecifiers(file: string): ts.TransformerFactory<ts.SourceFile> {
  const browserSpecifier = (specifier: string): string => {
    if (specifier === 'socket.io-client') return SOCKET_IO_ESM;
    if (/^\.\/[\w-]+$/.test(specifier)) return `${specifier}.js`;
    throw new Error(`${file}: cannot load '${specifier}' in a browser; the client may import only socket.io-client and its own files`);
  };
  return (context) => (sourceFile) => {
    const { factory } = context;
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const specifier = factory.createStringLiteral(browserSpecifier(node.moduleSpecifier.text), true);
        return factory.updateImportDeclaration(node, node.modifiers, node.importClause, specifier, node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const specifier = factory.createStringLiteral(browserSpecifier(node.moduleSpecifier.text), true);
        return factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, specifier, node.attributes);
      }
      return node;
    };
    return ts.visitEachChild(sourceFile, visit, context);
  };
}

export function writeBrowserModules(outDir: string = BUILT_DIR): string[] {
  const modules = buildBrowserModules();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of modules) writeFileSync(join(outDir, name), text);
  return [...modules.keys()];
}

if (require.main === module) {
  const outDir = process.argv[2] ?? BUILT_DIR;
  const written = writeBrowserModules(outDir);
  console.log(`wrote ${written.join(', ')} to ${outDir}`);
}
