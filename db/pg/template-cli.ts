// `npm run host:template` (run by `npm install`'s prepare): builds the
// pre-initialised cluster a new embedded data folder is copied from.
import { buildTemplate, templateFolder } from './template.js';

buildTemplate().then((outcome) => {
  console.log(`embedded host template ${outcome}: ${templateFolder()}`);
}, (error: unknown) => {
  // Not fatal: without a template a new data folder runs initdb, seconds slower.
  console.warn(`embedded host template not built (a new data folder will run initdb): ${error instanceof Error ? error.message : String(error)}`);
});
