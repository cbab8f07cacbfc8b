#!/usr/bin/env node
// The image HEALTHCHECK: GET /healthz on the service's own admin listener. The service and its
// admin address come from the same environment the service reads (COMMUCAT_SERVICE is set by the
// image, COMMUCAT_<NAME>_ADMIN_BIND by the image or the operator), so a moved admin port is
// followed without rebuilding. Exit 0 = healthy, 1 = not.
'use strict';
const http = require('node:http');

const DEFAULT_ADMIN_PORTS = { gateway: 9100, secrets: 9101, directory: 9102, presence: 9103, router: 9104, relay: 9105, media: 9106, federation: 9107 };
const TIMEOUT_MS = 3000;

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

const service = process.env.COMMUCAT_SERVICE;
if (!service || !(service in DEFAULT_ADMIN_PORTS)) fail(`COMMUCAT_SERVICE is ${JSON.stringify(service)}, not a fleet service`);

const bind = process.env[`COMMUCAT_${service.toUpperCase()}_ADMIN_BIND`] || `127.0.0.1:${DEFAULT_ADMIN_PORTS[service]}`;
const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(bind);
if (!match) fail(`cannot parse admin bind ${JSON.stringify(bind)}`);
const host = match[1] ?? match[2];
// A wildcard bind listens on loopback too; a specific address is dialled as given.
const target = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;

const req = http.get({ host: target, port: Number(match[3]), path: '/healthz', timeout: TIMEOUT_MS }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  fail(`GET /healthz answered ${res.statusCode}`);
});
req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
req.on('error', (err) => fail(`GET http://${bind}/healthz: ${err.message}`));
