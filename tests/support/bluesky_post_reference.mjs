// Validates Bluesky posts with the app.bsky.feed.post schema the PDS itself runs: the
// lexicons @atproto/pds ships compiled (@atproto/lex, `dist/lexicons/app/bsky/feed/
// post.defs.js`), independent of the documents plyr bundles. Used by
// tests/test_share_bluesky.py on a post read back from the PDS.
//
//   node tests/support/bluesky_post_reference.mjs <path to node_modules>  < [records]
//
// stdout: [{"valid": bool, "error": string | null}] in the order of the records
// (each record as com.atproto.repo.getRecord answers it: JSON, blobs as {$link} refs).

import { createRequire } from 'node:module'
import path from 'node:path'

const nodeModules = process.argv[2]
if (!nodeModules) {
  process.stderr.write('usage: bluesky_post_reference.mjs <node_modules>\n')
  process.exit(2)
}
const require = createRequire(path.join(path.resolve(nodeModules), 'noop.js'))
const lexJson = require('@atproto/lex-json')
const post = require(path.join(path.resolve(nodeModules), '@atproto/pds/dist/lexicons/app/bsky/feed/post.defs.js'))

const message = (err) => (err instanceof Error ? err.message : String(err))

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function check(record) {
  let value
  try {
    value = lexJson.jsonToLex(record)
  } catch (err) {
    return { valid: false, error: `jsonToLex: ${message(err)}` }
  }
  try {
    const res = post.main.safeValidate(value)
    return res.success ? { valid: true, error: null } : { valid: false, error: message(res.reason ?? res.error) }
  } catch (err) {
    return { valid: false, error: `threw: ${message(err)}` }
  }
}

readStdin()
  .then((records) => process.stdout.write(JSON.stringify(records.map(check))))
  .catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  })
