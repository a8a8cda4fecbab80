/**
 * Parses a URL option for an identity provider endpoint (token endpoint or JWKS).
 *
 * Only `https:` is accepted, except plain `http:` to a loopback host (`localhost`, `127.0.0.0/8`,
 * `[::1]`), which local identity providers and tests use. Over plain HTTP to any other host an
 * attacker on the path could read the client secret or substitute signing keys.
 *
 * @throws TypeError when the value is not an absolute URL of an accepted form.
 */
export function parseEndpointUrl(value: string | URL, option: string): URL {
  let url: URL
  try {
    url = new URL(value instanceof URL ? value.href : value)
  } catch (cause) {
    throw new TypeError(`"${option}" option must be an absolute URL`, { cause })
  }

  if (url.username !== '' || url.password !== '') {
    throw new TypeError(`"${option}" option must not contain credentials`)
  }

  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url

  throw new TypeError(`"${option}" option must be an https: URL (http: only for a loopback host)`)
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true

  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}
