// A real OpenID provider for the tests (node_modules/oidc-provider, certified by the OpenID
// Foundation). The tests write a JSON config and start: node provider.mjs CONFIG.json
// It prints "ready <issuer>" once it listens. Config:
//   {"port": 0, "clients": [...oidc-provider client metadata...],
//    "accounts": {"login": {claims...}}, "clock_offset_seconds": 0}
// A login page at /interaction/<uid> takes a login name (no password: the tests are the
// user); consent is given at once. clock_offset_seconds makes a provider whose clock is
// wrong, so that it issues tokens that are already expired for the relying party.
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
if (config.clock_offset_seconds) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + config.clock_offset_seconds * 1000;
}
const accounts = config.accounts || {};

const server = http.createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  findAccount: async (ctx, id) => (accounts[id] ? {
    accountId: id,
    claims: async () => ({ sub: id, ...accounts[id] }),
  } : undefined),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 86400, Interaction: 3600, Grant: 86400 },
  cookies: { keys: [process.env.OIDC_COOKIE_KEY || "backoffice-tests-only-cookie-key"] },
});

async function body(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

async function consent(req, res, details, accountId) {
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  return { consent: { grantId } };
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    const result = await consent(req, res, details, details.session.accountId);
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST') {
    const login = (await body(req)).get('login') || '';
    if (accounts[login]) {
      const result = { login: { accountId: login }, ...(await consent(req, res, details, login)) };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!DOCTYPE html><title>Test IdP</title><form method="post" action="/interaction/${details.uid}">
<input name="login"><button>Sign in</button></form>`);
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => { res.statusCode = 500; res.end(String(err)); });
  } else {
    callback(req, res);
  }
});
console.log(`ready ${issuer}`);
