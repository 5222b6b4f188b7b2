// The shipped load balancer (deploy/nginx.conf with deploy/proxy_params.conf)
// run by Debian's nginx on loopback, in front of instances the test started:
// the configuration is the shipped one, with only the upstream servers, the
// listening address and the files' places rewritten.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/local-service.js';
import { eventually } from './wait.js';

const NGINX = '/usr/sbin/nginx';

export const nginxInstalled = (): boolean => !spawnSync(NGINX, ['-v']).error;

export interface Balancer {
  /** http://127.0.0.1:port: the origin clients address (server_name 127.0.0.1). */
  url: string;
  /** What nginx logged at warn level and above (upstreams it gave up on, for one). */
  errors(): string;
  stop(): Promise<void>;
}

/** nginx in front of `upstreams` (host:port each), as deploy/nginx.conf configures it, on `port` (a free one by default). */
export async function startBalancer(upstreams: string[], port?: number): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), 'api-nginx-'));
  mkdirSync(join(dir, 'logs'));
  port ??= await freePort();
  const shipped = readFileSync('deploy/nginx.conf', 'utf8');
  const servers = /(?<=# @upstreams[^\n]*\n)(?:\s*server [^\n]*\n)+/.exec(shipped)?.[0];
  const options = /server \S+( [^;\n]*);/.exec(servers ?? '')?.[1] ?? ''; // max_fails, fail_timeout: kept as shipped
  if (!servers) throw new Error('deploy/nginx.conf: no "# @upstreams" block');
  const config = shipped
    .replace(servers, upstreams.map((upstream) => `    server ${upstream}${options};\n`).join(''))
    .replaceAll('listen 8080', `listen 127.0.0.1:${port}`)
    .replace('worker_processes auto;', `worker_processes 1;\npid ${dir}/nginx.pid;`)
    .replace('error_log /dev/stderr warn;', `error_log ${dir}/error.log warn;`)
    .replace('access_log off;', `access_log off;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`);
  writeFileSync(join(dir, 'nginx.conf'), config);
  copyFileSync('deploy/proxy_params.conf', join(dir, 'proxy_params.conf'));
  const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  // Listening is enough: a request would reach an upstream, and a failed one take it out (max_fails).
  await eventually(() => new Promise<boolean>((resolve) => {
    const probe = connect(port, '127.0.0.1', () => probe.end(() => resolve(true))).on('error', () => resolve(false));
  }));
  return {
    url,
    errors: () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      if (nginx.exitCode === null && nginx.signalCode === null) {
        nginx.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
