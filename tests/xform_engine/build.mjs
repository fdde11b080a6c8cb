// Bundles the engine for the browser (offline, from node_modules): node build.mjs OUTFILE
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2] ?? path.join(here, 'dist', 'engine.js');

// enketo-core lets an app replace its configuration module (package.json "browser" map)
const localConfig = {
    name: 'local-config',
    setup(b) {
        b.onResolve({ filter: /^enketo\/config$/ }, () => ({ path: path.join(here, 'src', 'config.js') }));
    },
};

await build({
    entryPoints: [path.join(here, 'src', 'engine.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    outfile,
    plugins: [localConfig],
    external: ['libxslt'], // only reached by the node build's preprocess hook, never in a browser
    logLevel: 'warning',
});
