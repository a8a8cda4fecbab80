/**
 * A real OAuth 2.0 identity provider for tests, listening on 127.0.0.1 on a random port. It signs
 * tokens with jose, serves its JWKS, and implements the RFC 8693 token exchange grant with
 * switchable failure behaviour. It counts token endpoint requests and JWKS fetches.
 */

import { once } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from 'jose'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

/**
 * Token endpoint response to a valid exchange request.
 * - `ok`: issues a TE-JWT for the requested audience.
 * - `slow`: issues it after `delayMs`.
 * - `server-error`: HTTP 500 with `error=server_error`.
 * - `unavailable`: HTTP 503 with `error=temporarily_unavailable`.
 * - `invalid-grant`: HTTP 400 with `error=invalid_grant` and a description that echoes the
 *   subject token, the client secret and control characters.
 * - `wrong-audience`: issues a TE-JWT whose `aud` is `some-other-service`.
 * - `expired`: issues a TE-JWT that expired two minutes ago.
 * - `unknown-key`: signs the TE-JWT with a key that the JWKS does not contain.
 * - `redirect`: HTTP 302 to another path of the same server.
 * - `oversized`: HTTP 200 with a 100 KiB JSON body.
 */
export type ExchangeBehaviour =
  | 'ok'
  | 'slow'
  | 'server-error'
  | 'unavailable'
  | 'invalid-grant'
  | 'wrong-audience'
  | 'expired'
  | 'unknown-key'
  | 'redirect'
  | 'oversized'

/** Claims that the identity provider puts into TE-JWTs for one subject. */
export type SubjectClaims = Readonly<Record<string, unknown>>

export interface IdentityProviderOptions {
  readonly clientId: string
  readonly clientSecret: string
  /** Claims per `sub` of the subject token. A subject not listed gets `invalid_grant`. */
  readonly subjects: Readonly<Record<string, SubjectClaims>>
  /** Signing algorithm. Default ES256. */
  readonly algorithm?: 'ES256' | 'RS256' | 'EdDSA'
  /** Lifetime of issued tokens in seconds. Default 300. */
  readonly tokenLifetimeSeconds?: number
}

interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

/** One token endpoint request as the identity provider received it. */
export interface RecordedRequest {
  readonly form: Readonly<Record<string, string>>
  readonly authorization: string | undefined
}

export class TestIdentityProvider {
  /** Behaviour of the token endpoint. */
  behaviour: ExchangeBehaviour = 'ok'
  /** Response delay of the `slow` behaviour in milliseconds. */
  delayMs = 2000
  /** Number of next token endpoint requests that get HTTP 500 before `behaviour` applies. */
  pendingServerErrors = 0
  /** Token endpoint requests received, including failed ones. */
  exchangeCount = 0
  /** Tokens issued by the token endpoint. */
  issuedCount = 0
  /** JWKS requests received. */
  jwksFetchCount = 0
  readonly requests: RecordedRequest[] = []
  /**
   * Identity provider whose JWKS verifies subject tokens. Default: this one. Set it to exchange
   * tokens that another identity provider issued.
   */
  subjectTokenIssuer: TestIdentityProvider | undefined

  readonly #server: Server
  readonly #options: IdentityProviderOptions
  readonly #timers = new Set<NodeJS.Timeout>()
  #keys: SigningKey[] = []
  #unpublishedKey: SigningKey | undefined
  #keyCounter = 0

  private constructor(server: Server, options: IdentityProviderOptions) {
    this.#server = server
    this.#options = options
  }

  /** Starts an identity provider on 127.0.0.1 and a random port. */
  static async start(options: IdentityProviderOptions): Promise<TestIdentityProvider> {
    const server = createServer()
    const provider = new TestIdentityProvider(server, options)
    provider.#keys = [await provider.#createKey()]
    provider.#unpublishedKey = await provider.#createKey()
    server.on('request', (request, response) => {
      provider.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error))
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')

    return provider
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  get issuer(): string {
    return this.url
  }

  get tokenEndpoint(): string {
    return `${this.url}/token`
  }

  get jwksUrl(): string {
    return `${this.url}/jwks`
  }

  /** The JWKS currently published. */
  get jwks(): JSONWebKeySet {
    return { keys: this.#keys.map((key) => key.publicJwk) }
  }

  /** Replaces the signing key: tokens signed from now on use a key id the JWKS never had. */
  async rotateKeys(): Promise<void> {
    this.#keys = [await this.#createKey()]
  }

  /** Signs a token with the current key (or the unpublished key) and the given claims. */
  async sign(
    claims: JWTPayload,
    options: { readonly lifetimeSeconds?: number; readonly unpublishedKey?: boolean } = {},
  ): Promise<string> {
    const key = options.unpublishedKey ? this.#unpublishedKey : this.#keys[0]
    if (key === undefined) throw new Error('identity provider has no signing key')

    const now = Math.floor(Date.now() / 1000)
    const lifetime = options.lifetimeSeconds ?? this.#options.tokenLifetimeSeconds ?? 300

    return new SignJWT({ iat: now, nbf: now, exp: now + lifetime, ...claims })
      .setProtectedHeader({ alg: this.#algorithm, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey)
  }

  /** Issues a requestor (subject) token for `sub` with the given audience. */
  async issueSubjectToken(
    sub: string,
    audience: string,
    options: { readonly lifetimeSeconds?: number; readonly claims?: JWTPayload } = {},
  ): Promise<string> {
    return this.sign(
      { iss: this.issuer, sub, aud: audience, ...options.claims },
      options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds },
    )
  }

  /** Restores the `ok` behaviour and zeroes the counters and the request log. */
  reset(): void {
    this.behaviour = 'ok'
    this.pendingServerErrors = 0
    this.exchangeCount = 0
    this.issuedCount = 0
    this.jwksFetchCount = 0
    this.requests.length = 0
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#server.closeAllConnections()
    this.#server.close()
    await once(this.#server, 'close')
  }

  get #algorithm(): string {
    return this.#options.algorithm ?? 'ES256'
  }

  async #createKey(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(this.#algorithm, { extractable: true })
    this.#keyCounter += 1
    const kid = `key-${this.#keyCounter}-${Math.random().toString(36).slice(2, 8)}`
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: this.#algorithm, use: 'sig' }

    return { kid, privateKey, publicJwk }
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'GET' && request.url === '/jwks') {
      this.jwksFetchCount += 1
      sendJson(response, 200, this.jwks)
      return
    }

    if (request.method === 'POST' && request.url === '/token') {
      await this.#exchange(request, response)
      return
    }

    sendJson(response, 404, { error: 'not_found' })
  }

  async #exchange(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.exchangeCount += 1
    const form = Object.fromEntries(new URLSearchParams(await readBody(request)))
    this.requests.push({ form, authorization: request.headers.authorization })

    if (this.pendingServerErrors > 0) {
      this.pendingServerErrors -= 1
      sendJson(response, 500, { error: 'server_error' })
      return
    }

    if (!this.#clientAuthenticated(form, request.headers.authorization)) {
      sendJson(response, 401, { error: 'invalid_client' })
      return
    }

    if (form.grant_type !== TOKEN_EXCHANGE_GRANT || form.subject_token === undefined) {
      sendJson(response, 400, { error: 'unsupported_grant_type' })
      return
    }

    switch (this.behaviour) {
      case 'server-error':
        sendJson(response, 500, { error: 'server_error' })
        return
      case 'oversized':
        sendJson(response, 200, { access_token: 'x'.repeat(100 * 1024), token_type: 'N_A' })
        return
      case 'unavailable':
        sendJson(response, 503, { error: 'temporarily_unavailable' })
        return
      case 'redirect':
        response.writeHead(302, { location: `${this.url}/elsewhere` }).end()
        return
      case 'invalid-grant':
        sendJson(response, 400, {
          error: 'invalid_grant',
          error_description:
            `subject token ${form.subject_token} rejected for client secret ` +
            `${this.#options.clientSecret}\u0007\r\nInjected: header`,
        })
        return
      default:
        break
    }

    const subject = await this.#verifySubjectToken(form.subject_token)
    const claims = subject === undefined ? undefined : this.#options.subjects[subject]
    if (subject === undefined || claims === undefined) {
      sendJson(response, 400, { error: 'invalid_grant', error_description: 'unknown subject' })
      return
    }

    const issued = await this.#issue(subject, claims, form)
    this.issuedCount += 1
    const body = {
      access_token: issued,
      issued_token_type: JWT_TOKEN_TYPE,
      token_type: 'N_A',
      expires_in: this.#options.tokenLifetimeSeconds ?? 300,
    }

    if (this.behaviour !== 'slow') {
      sendJson(response, 200, body)
      return
    }

    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      if (!response.destroyed) sendJson(response, 200, body)
    }, this.delayMs)
    this.#timers.add(timer)
  }

  #clientAuthenticated(form: Record<string, string>, authorization: string | undefined): boolean {
    const { clientId, clientSecret } = this.#options
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8')
      const separator = decoded.indexOf(':')
      const id = decodeURIComponent(decoded.slice(0, separator).replaceAll('+', ' '))
      const secret = decodeURIComponent(decoded.slice(separator + 1).replaceAll('+', ' '))
      return id === clientId && secret === clientSecret
    }

    return form.client_id === clientId && form.client_secret === clientSecret
  }

  async #verifySubjectToken(token: string): Promise<string | undefined> {
    try {
      const issuer = this.subjectTokenIssuer ?? this
      const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks), {
        issuer: issuer.issuer,
      })
      return payload.sub
    } catch {
      return undefined
    }
  }

  async #issue(subject: string, claims: SubjectClaims, form: Record<string, string>) {
    const audience = this.behaviour === 'wrong-audience' ? 'some-other-service' : form.audience
    const payload: JWTPayload = {
      ...claims,
      iss: this.issuer,
      sub: subject,
      ...(audience !== undefined && { aud: audience }),
      ...(form.scope !== undefined && { scope: form.scope }),
      act: { sub: this.#options.clientId },
    }

    if (this.behaviour === 'expired') {
      const now = Math.floor(Date.now() / 1000)
      return this.sign({ ...payload, iat: now - 600, exp: now - 120 })
    }

    return this.sign(payload, { unpublishedKey: this.behaviour === 'unknown-key' })
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)

  return Buffer.concat(chunks).toString('utf8')
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  response.end(JSON.stringify(body))
}
