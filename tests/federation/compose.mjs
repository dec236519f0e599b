// Compose Apollo Federation v2 subgraphs into a supergraph with @apollo/composition.
//
//   node tests/federation/compose.mjs NAME=SDL_FILE [NAME=SDL_FILE ...]
//
// Prints the supergraph SDL on stdout and exits 0; on composition errors prints
// each error (with its code) on stderr and exits 1. Exit 2: bad usage or an
// unreadable/unparsable file; exit 3: @apollo/composition is not installed.
// The npm packages live in gateway/web/node_modules (installed by `make install`).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../gateway/web/package.json", import.meta.url));

function load(name) {
  try {
    return require(name);
  } catch (error) {
    process.stderr.write(
      `cannot load ${name} from gateway/web/node_modules: run \`make install\` ` +
        `(npm ci --prefix gateway/web)\n${error.message}\n`,
    );
    process.exit(3);
  }
}

const { composeServices } = load("@apollo/composition");
const { parse } = load("graphql");

const args = process.argv.slice(2);
if (args.length === 0 || args.some((arg) => !/^[A-Za-z][\w-]*=.+$/.test(arg))) {
  process.stderr.write("usage: node compose.mjs NAME=SDL_FILE [NAME=SDL_FILE ...]\n");
  process.exit(2);
}

const services = args.map((arg) => {
  const at = arg.indexOf("=");
  const name = arg.slice(0, at);
  const file = arg.slice(at + 1);
  try {
    return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(file, "utf8")) };
  } catch (error) {
    process.stderr.write(`subgraph ${name} (${file}): ${error.message}\n`);
    process.exit(2);
  }
});

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) {
    const code = error.extensions?.code ?? "COMPOSITION_ERROR";
    process.stderr.write(`[${code}] ${error.message}\n`);
  }
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);
