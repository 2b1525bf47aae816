// Tongban's demo and test identity provider: panva's oidc-provider (OpenID
// Certified) with a small configuration. DEMO AND TEST ONLY: it signs in the
// demo account named by the authorization request's `login_hint` without a
// password (docs/signin.md, "The demo identity provider").
//
// Usage: node idp/server.mjs CONFIG.json
// It binds 127.0.0.1 on the configured port (0: a free one) and prints one
// line `issuer <url>` on stdout when it serves.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts; // { id: { name, groups } }

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { keys: [{ ...rsa, alg: 'RS256', use: 'sig' }, { ...ec, alg: 'ES256', use: 'sig' }] };
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// No form-action here: the confirmation's answer is a redirect to the relying
// party's post_logout_redirect_uri, which form-action would also govern.
const PAGE_POLICY = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function page(ctx, title, body) {
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', PAGE_POLICY);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">`
    + `<meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

// The provider's own confirmation (oidc-provider gives the hidden form): a click-through.
async function logoutSource(ctx, form) {
  page(ctx, '退出统一身份认证 Sign out', `<h1>退出统一身份认证？ Sign out of the identity provider?</h1>${form}`
    + '<p><button type="submit" form="op.logoutForm" name="logout" value="yes">退出 Sign out</button> '
    + '<button type="submit" form="op.logoutForm">保持登录 Stay signed in</button></p>');
}

// Shown only when the relying party named no post_logout_redirect_uri.
async function postLogoutSuccessSource(ctx) {
  page(ctx, '已退出 Signed out', '<h1>已退出统一身份认证 Signed out of the identity provider</h1>');
}

const server = createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const resource = config.resource;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: signingKeys(),
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], profile: ['name', 'groups'] },
    scopes: ['openid', 'profile', ...(config.apiScopes ?? [])],
    cookies: { keys: [signingKeys().keys[0].d.slice(0, 32)] },
    ttl: { IdToken: config.idTokenTtl ?? 300, ClientCredentials: 600, AccessToken: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new Provider.errors.InvalidTarget();
          return {
            audience: resource,
            scope: (config.apiScopes ?? []).join(' '),
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
      // OpenID Connect RP-Initiated Logout 1.0: the provider's own pages, plain
      // forms under a strict CSP (the defaults pull a web font from elsewhere).
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, name: account.name, groups: account.groups }) };
    },
  });
  provider.proxy = false;

  // DEMO ONLY: a list of the demo accounts, each a link that signs in as it.
  const chooser = (res, uid) => {
    const escape = escapeHtml;
    const items = Object.entries(accounts).map(([id, account]) => (
      `<li><a href="/interaction/${encodeURIComponent(uid)}?account=${encodeURIComponent(id)}">`
      + `${escape(account.name)} (${escape(id)})</a></li>`)).join('');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', "default-src 'none'");
    res.setHeader('Cache-Control', 'no-store');
    res.end(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>演示身份认证 Demo sign-in</title></head>`
      + `<body><main><h1>演示身份认证 (demo only)</h1><p>选择演示账号 / choose a demo account:</p><ul>${items}</ul></main></body></html>`);
  };

  const finish = async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      const chosen = new URL(req.url, issuer).searchParams.get('account');
      const hint = chosen ?? details.params.login_hint;
      if (hint === undefined) return chooser(res, details.uid);
      if (typeof hint !== 'string' || !accounts[hint]) {
        return provider.interactionFinished(req, res, {
          error: 'access_denied', error_description: 'unknown demo account',
        }, { mergeWithLastSubmission: false });
      }
      return provider.interactionFinished(req, res, { login: { accountId: hint } }, { mergeWithLastSubmission: false });
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
      finish(req, res).catch(() => {
        res.statusCode = 400;
        res.end('interaction refused');
      });
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`issuer ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
