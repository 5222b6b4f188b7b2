// Mocha root hooks: the shared host is closed (and its PostgreSQL database dropped) once, after every suite.
import { closeSharedHost } from './host.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await closeSharedHost();
  },
};
