// Reference verdicts for tests/moderation/test_labeler.py, from the atproto project's own code.
//
//   node tests/support/labeler_reference.mjs <path to node_modules>  < request
//
// request {"op": "verify", "plc": url, "did": did, "labels": [label in JSON form]}:
//   resolves the DID document from the PLC directory itself, takes the `#atproto_label`
//   key (@atproto/common-web + @atproto/identity, as the AppView reads it), re-encodes each label without `sig` with @ipld/dag-cbor and checks the signature
//   with @atproto/crypto's verifySignature (low-S only, its default).
//   stdout {"didKey", "endpoint", "results": [true|false, …]}
// request {"op": "service", "records": [record]}: validates each record against the PDS's
//   own compiled app.bsky.labeler.service lexicon.
//   stdout {"results": [{"valid", "error"}]}
//
// The packages are loaded from the development network's node_modules (atproto-net/).

import { createRequire } from 'node:module'
import path from 'node:path'

const nodeModules = process.argv[2]
if (!nodeModules) {
  process.stderr.write('usage: labeler_reference.mjs <node_modules>\n')
  process.exit(2)
}
const require = createRequire(path.join(path.resolve(nodeModules), 'noop.js'))
const crypto = require('@atproto/crypto')
const commonWeb = require('@atproto/common-web')
const identity = require('@atproto/identity')
const dagCbor = require('@ipld/dag-cbor')

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function fragment(entry, did, name) {
  return entry.id === `#${name}` || entry.id === `${did}#${name}`
}

async function verify({ plc, did, labels }) {
  const res = await fetch(`${plc}/${did}`)
  if (!res.ok) throw new Error(`PLC answered ${res.status} for ${did}`)
  const doc = await res.json()
  // The reference way to read a key from a DID document (Multikey or the legacy suites).
  const material = commonWeb.getVerificationMaterial(doc, 'atproto_label')
  if (!material) throw new Error('no #atproto_label in the DID document')
  const didKey = identity.getDidKeyFromMultibase(material)
  const service = (doc.service || []).find((s) => fragment(s, did, 'atproto_labeler'))
  const results = []
  for (const label of labels) {
    const { sig, ...unsigned } = label
    const bytes = dagCbor.encode(unsigned)
    const sigBytes = new Uint8Array(Buffer.from(sig.$bytes, 'base64'))
    results.push(await crypto.verifySignature(didKey, bytes, sigBytes))
  }
  return { didKey, endpoint: service ? service.serviceEndpoint : null, results }
}

function service({ records }) {
  const lexicon = require('@atproto/pds/dist/lexicons/app/bsky/labeler/service.defs.js')
  return {
    results: records.map((record) => {
      const verdict = lexicon.$safeValidate(record)
      return verdict.success
        ? { valid: true, error: null }
        : { valid: false, error: verdict.message || String(verdict.error) }
    }),
  }
}

const request = await readStdin()
const answer = request.op === 'verify' ? await verify(request) : service(request)
process.stdout.write(JSON.stringify(answer))
