/**
 * `/docs`: Swagger UI from the installed `swagger-ui-dist` package, never a CDN, so the reference
 * renders on a network without internet access. Our own initializer script (no inline script).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';

const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files the page loads, read once: name → [content type, bytes]. */
const ASSETS: Record<string, [string, Buffer]> = Object.fromEntries(
  [
    ['swagger-ui.css', 'text/css; charset=utf-8'],
    ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
    ['favicon-32x32.png', 'image/png'],
  ].map(([name, type]) => [name, [type!, readFileSync(join(dist, name!))]]),
);
ASSETS['init.js'] = [
  'text/javascript; charset=utf-8',
  Buffer.from(
    "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });\n",
  ),
];

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>escalate API reference</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

/** Swagger UI styles elements inline; everything else comes from this server. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export function docsRouter() {
  const router = new Hono();
  router.get('/docs', (c) => c.html(PAGE, 200, { 'Content-Security-Policy': CSP }));
  router.get('/docs/assets/:file', (c) => {
    const asset = ASSETS[c.req.param('file')];
    if (!asset) return c.notFound();
    return c.body(new Uint8Array(asset[1]), 200, {
      'Content-Type': asset[0],
      'Cache-Control': 'public, max-age=86400',
    });
  });
  return router;
}
