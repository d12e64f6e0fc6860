// A real OpenID Connect provider (the npm package oidc-provider) for the
// portal's tests and its local demo: it stands in for an eHerkenning broker.
// It signs ID tokens with a fresh RS256 key, requires PKCE, and knows a few
// demo accounts, each with the employer it acts for in the `employer_id`
// claim. Its login page is oidc-provider's development form: type the
// account's name (e.g. acme-hr), any password.
//
//   node provider.mjs --port=N --cert=F --key=F --client-secret-file=F
//                     --redirect-uri=URL --post-logout-redirect-uri=URL
//                     [--client-id=ID] [--host=127.0.0.1]
//
// Prints "provider listening on https://HOST:PORT" once it serves.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
);
for (const required of ['port', 'cert', 'key', 'client-secret-file', 'redirect-uri']) {
  if (!args[required]) {
    console.error(`provider: --${required} is required`);
    process.exit(2);
  }
}
const host = args.host || '127.0.0.1';
const issuer = `https://${host}:${args.port}`;

// The demo accounts: who signs in, and for which employer.
const ACCOUNTS = {
  'acme-hr': { email: 'hr@acme.example', name: 'Anne de Wit', employer_id: 'acme' },
  'acme-planner': { email: 'planning@acme.example', name: 'Bas Jansen', employer_id: 'acme' },
  'techniek-hr': { email: 'hr@techniek.example', name: 'Carla Smit', employer_id: 'techniek-bv' },
  'korf-hr': { email: 'hr@dekorf.example', name: 'Dirk de Korf', employer_id: 'bakkerij-de-korf' },
  'zonder-werkgever': { email: 'los@example.org', name: 'Eva Los' },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const configuration = {
  clients: [
    {
      client_id: args['client-id'] || 'duurzaam-portal',
      client_secret: readFileSync(args['client-secret-file'], 'utf8').trim(),
      redirect_uris: [args['redirect-uri']],
      post_logout_redirect_uris: args['post-logout-redirect-uri']
        ? [args['post-logout-redirect-uri']]
        : [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'employer_id'],
  },
  // The claims go into the ID token itself (the portal reads no userinfo).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // The portal is the deployment's own client: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    return {
      accountId: id,
      async claims() {
        if (!account) return { sub: id };
        return {
          sub: id,
          email: account.email,
          email_verified: true,
          name: account.name,
          ...(account.employer_id ? { employer_id: account.employer_id } : {}),
        };
      },
    };
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 600, AccessToken: 600, AuthorizationCode: 60 },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('provider error:', err));
const server = https.createServer(
  { cert: readFileSync(args.cert), key: readFileSync(args.key) },
  provider.callback(),
);
server.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`provider listening on ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
