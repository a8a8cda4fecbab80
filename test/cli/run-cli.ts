import { Readable } from 'node:stream'

import { main } from '../../src/cli/main.js'

/** Exit code and output of one in-process run of the command line. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `sqlgate ...args` in-process and collects its output. */
export async function runCli(args: readonly string[], input = ''): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'sqlgate', ...args], {
    stdin: Readable.from([input]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  })
  return { code, stdout, stderr }
}
