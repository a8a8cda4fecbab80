// Runs every test/**/*.test.ts file with Node's test runner, loading TypeScript through tsx.
// Node 20's --test does not expand globs, so this script lists the files itself.
// Usage: npm test [-- path-filter ...]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function listTests(directory) {
  const files = []
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry)
    if (statSync(path).isDirectory()) files.push(...listTests(path))
    else if (entry.endsWith('.test.ts')) files.push(path)
  }
  return files
}

const filters = process.argv.slice(2)
const files = listTests('test')
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort()

if (files.length === 0) {
  process.stderr.write(`no test files match ${filters.join(' ')}\n`)
  process.exit(1)
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
