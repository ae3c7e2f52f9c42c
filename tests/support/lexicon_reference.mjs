// Reference verdicts for tests/test_lexicon_cases.py, from the atproto project's own validators.
//
//   node tests/support/lexicon_reference.mjs <path to node_modules>  < {docs, cases}
//
// stdin:  {"docs": [lexicon documents], "cases": [{"nsid", "record"} | {"nsid", "rkey"}]}
// stdout: {"documents": [{"id", "lexicon", "lexSchema"}],   (null, or why the doc is bad)
//          "results": [{"lexicon": {"valid", "error"} | null, "lexSchema": {"valid", "error"}}]}
//
// Two validators answer:
// * "lexicon": @atproto/lexicon (Lexicons.assertValidRecord), the long-standing one.
//   It wants blobs as BlobRef instances, CID links as CID objects and bytes as
//   Uint8Array, so each record goes through its `jsonToLex` first ($link -> CID,
//   $bytes -> Uint8Array, a well-formed blob object -> BlobRef). A value that this
//   conversion refuses (an undecodable $link, say) counts as invalid. It has no record
//   key check, so its answer for an rkey case is null.
// * "lexSchema": @atproto/lex-document's LexiconSchemaBuilder, which compiles the
//   documents to @atproto/lex-schema validators: what the PDS itself now runs on
//   writes (strict mode: blob accept/maxSize enforced). Records go through
//   @atproto/lex-json's `jsonToLex`, where blobs stay plain objects with a CID `ref`.
//   Record keys are checked as the PDS checks them: @atproto/syntax's isValidRecordKey,
//   then the record schema's keySchema. Its builder (0.0.18)
//   cannot follow a reference to another document's main definition written without
//   `#main` ("ref": "com.atproto.repo.strongRef", as the spec allows and Bluesky's own
//   lexicons do), so the documents it gets have `#main` spelled out: same meaning.
//
// The packages are loaded from the node_modules folder given on the command line (the
// development network's, atproto-net/node_modules), so nothing is installed for this.

import { createRequire } from 'node:module'
import path from 'node:path'

const nodeModules = process.argv[2]
if (!nodeModules) {
  process.stderr.write('usage: lexicon_reference.mjs <node_modules>\n')
  process.exit(2)
}
const require = createRequire(path.join(path.resolve(nodeModules), 'noop.js'))
const lexicon = require('@atproto/lexicon')
const lexDocument = require('@atproto/lex-document')
const lexJson = require('@atproto/lex-json')
const syntax = require('@atproto/syntax')

function message(err) {
  return err instanceof Error ? err.message : String(err)
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function checkDocument(doc) {
  let lexiconError = null
  try {
    lexicon.parseLexiconDoc(structuredClone(doc))
  } catch (err) {
    lexiconError = message(err)
  }
  let lexSchemaError = null
  const res = lexDocument.lexiconDocumentSchema.safeValidate(structuredClone(doc))
  if (!res.success) lexSchemaError = message(res.reason ?? res.error)
  return { id: doc.id, lexicon: lexiconError, lexSchema: lexSchemaError }
}

function withLexicon(lex, nsid, record) {
  let value
  try {
    value = lexicon.jsonToLex(record)
  } catch (err) {
    return { valid: false, error: `jsonToLex: ${message(err)}` }
  }
  try {
    lex.assertValidRecord(nsid, value)
    return { valid: true, error: null }
  } catch (err) {
    return { valid: false, error: message(err) }
  }
}

function withLexSchema(schema, record) {
  let value
  try {
    value = lexJson.jsonToLex(record)
  } catch (err) {
    return { valid: false, error: `jsonToLex: ${message(err)}` }
  }
  try {
    const res = schema.safeValidate(value)
    return res.success
      ? { valid: true, error: null }
      : { valid: false, error: message(res.reason ?? res.error) }
  } catch (err) {
    return { valid: false, error: `threw: ${message(err)}` }
  }
}

// As the PDS does on a write: record key syntax first, then the lexicon's key type.
function keyWithLexSchema(schema, rkey) {
  if (!syntax.isValidRecordKey(rkey)) return { valid: false, error: 'isValidRecordKey' }
  const res = schema.keySchema.safeValidate(rkey)
  return res.success
    ? { valid: true, error: null }
    : { valid: false, error: message(res.reason ?? res.error) }
}

function explicitMain(node) {
  const full = (ref) => (typeof ref === 'string' && !ref.includes('#') ? `${ref}#main` : ref)
  if (Array.isArray(node)) return node.map(explicitMain)
  if (node === null || typeof node !== 'object') return node
  const out = {}
  for (const [key, value] of Object.entries(node)) out[key] = explicitMain(value)
  if (node.type === 'ref') out.ref = full(node.ref)
  if (node.type === 'union' && Array.isArray(node.refs)) out.refs = node.refs.map(full)
  return out
}

async function main() {
  const { docs, cases } = await readStdin()
  const documents = docs.map(checkDocument)
  // Lexicons rewrites references inside the documents it is given: hand it a copy.
  const lex = new lexicon.Lexicons(structuredClone(docs))
  const schemas = new Map()
  async function schemaFor(nsid) {
    if (!schemas.has(nsid)) {
      const indexer = new lexDocument.LexiconIterableIndexer(docs.map(explicitMain))
      schemas.set(nsid, await lexDocument.LexiconSchemaBuilder.build(indexer, `${nsid}#main`))
    }
    return schemas.get(nsid)
  }
  const results = []
  for (const item of cases) {
    const schema = await schemaFor(item.nsid)
    if ('rkey' in item) {
      results.push({ lexicon: null, lexSchema: keyWithLexSchema(schema, item.rkey) })
    } else {
      results.push({
        lexicon: withLexicon(lex, item.nsid, item.record),
        lexSchema: withLexSchema(schema, item.record),
      })
    }
  }
  process.stdout.write(JSON.stringify({ documents, results }))
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`)
  process.exit(1)
})
