// `npm start`: the compiled server (dist/, which `npm install` builds),
// rebuilt first when a source changed since the last build. No TypeScript at
// run time: a restart costs node and the host, not a compiler. `npm run dev`
// runs the sources themselves and restarts on every save.
import { build, staleness } from './build.mjs';

const stale = staleness();
if (stale) {
  console.warn(`npm start: ${stale}; compiling first (npm run build, a few seconds)`);
  try {
    build();
  } catch (error) {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  }
}
const { main } = await import('../dist/app/server.js');
main();
