// The container's HEALTHCHECK: GET /health/ready on this instance, over HTTPS
// when TLS is on (the certificate names the public host, not 127.0.0.1, so it
// is not verified on this loopback hop). Exit 0 when ready.
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

const port = process.env.PORT || '8080';
const tls = Boolean(process.env.TLS_CERT);
const get = tls ? httpsGet : httpGet;
get(`${tls ? 'https' : 'http'}://127.0.0.1:${port}/health/ready`, { rejectUnauthorized: false, timeout: 2500 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
}).on('error', () => process.exit(1)).on('timeout', () => process.exit(1));
