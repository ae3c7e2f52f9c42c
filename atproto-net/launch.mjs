// A local ATProto network for plyr's development and tests: the reference PLC directory
// (@did-plc/server) and PDS (@atproto/pds) in one Node process, bound to 127.0.0.1.
//
//   node launch.mjs --plc-port 2582 --pds-port 2583 --data-dir ./data \
//       --account alice.test:alice-password --account bob.test:bob-password
//
// When both servers answer and the accounts exist, it prints ONE line to stdout:
//   PLYR_ATPROTO_NET_READY {"plc":"http://…","pds":"http://localhost:…","accounts":[…]}
// and keeps running until SIGINT/SIGTERM. Everything else goes to stderr.
//
// The PLC directory keeps its operations in memory; we snapshot them into the data folder
// after every change and load them on start, so a development network survives restarts.
// Tests pass a fresh data folder each run.

import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { Secp256k1Keypair } from '@atproto/crypto'
import * as pdsModule from '@atproto/pds'
import * as plcModule from '@did-plc/server'
import { CID } from 'multiformats/cid'

const { PDS, envToCfg, envToSecrets, readEnv } = pdsModule
const { PlcServer, Database } = plcModule

const log = (...parts) => console.error('[atproto-net]', ...parts)

const { values: args } = parseArgs({
  options: {
    'plc-port': { type: 'string', default: '2582' },
    'pds-port': { type: 'string', default: '2583' },
    'data-dir': { type: 'string', default: './data' },
    account: { type: 'string', multiple: true, default: [] },
    'blob-limit': { type: 'string', default: String(5 * 1024 * 1024) },
    'log-level': { type: 'string', default: 'warn' },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
})

// Both servers call listen(port) without a host, which binds every interface. A test
// network must not be reachable from outside the machine, so default the host to loopback.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listenOnLoopback(...listenArgs) {
  if (typeof listenArgs[0] === 'number' && typeof listenArgs[1] !== 'string') {
    listenArgs.splice(1, 0, '127.0.0.1')
  }
  return originalListen.apply(this, listenArgs)
}

const dataDir = path.resolve(args['data-dir'])
mkdirSync(path.join(dataDir, 'pds', 'blobs'), { recursive: true })

// Secrets are made once per data folder: the PDS's PLC rotation key must stay the same
// for the DIDs it created.
async function loadSecrets() {
  const file = path.join(dataDir, 'secrets.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'))
  const rotation = await Secp256k1Keypair.create({ exportable: true })
  const secrets = {
    jwtSecret: randomBytes(32).toString('hex'),
    adminPassword: randomBytes(16).toString('hex'),
    rotationKeyHex: Buffer.from(await rotation.export()).toString('hex'),
  }
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 })
  return secrets
}

// --- PLC directory, persisted as a JSON snapshot -------------------------------------

function plcSnapshotPath() {
  return path.join(dataDir, 'plc-operations.json')
}

function loadPlcDatabase() {
  const db = Database.mock()
  const file = plcSnapshotPath()
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    for (const [did, ops] of Object.entries(saved)) {
      db.contents[did] = ops.map((op) => ({
        ...op,
        cid: CID.parse(op.cid),
        createdAt: new Date(op.createdAt),
      }))
    }
  }
  const addOp = db.validateAndAddOp.bind(db)
  db.validateAndAddOp = async (did, proposed) => {
    await addOp(did, proposed)
    const snapshot = {}
    for (const [key, ops] of Object.entries(db.contents)) {
      snapshot[key] = ops.map((op) => ({
        ...op,
        cid: op.cid.toString(),
        createdAt: op.createdAt.toISOString(),
      }))
    }
    const tmp = `${file}.tmp`
    writeFileSync(tmp, JSON.stringify(snapshot))
    renameSync(tmp, file)
  }
  return db
}

// --- accounts ------------------------------------------------------------------------

async function xrpc(base, method, body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${base}/xrpc/${method}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : {} }
}

async function ensureAccount(pdsUrl, spec) {
  const colon = spec.indexOf(':')
  if (colon < 1) throw new Error(`--account wants handle:password, got ${spec}`)
  const handle = spec.slice(0, colon)
  const password = spec.slice(colon + 1)
  const login = await xrpc(pdsUrl, 'com.atproto.server.createSession', {
    identifier: handle,
    password,
  })
  if (login.status === 200) return { handle, did: login.body.did, password }
  const made = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
    handle,
    password,
    email: `${handle.replace(/[^a-z0-9]/gi, '-')}@example.com`,
  })
  if (made.status !== 200) {
    throw new Error(`cannot create ${handle}: ${made.status} ${JSON.stringify(made.body)}`)
  }
  return { handle, did: made.body.did, password }
}

// --- start ---------------------------------------------------------------------------

async function main() {
  const plcPort = Number(args['plc-port'])
  const pdsPort = Number(args['pds-port'])
  const secrets = await loadSecrets()

  const plc = PlcServer.create({ db: loadPlcDatabase(), port: plcPort })
  await plc.start()
  const plcUrl = `http://127.0.0.1:${plcPort}`
  // Opt-in lexicon resolution (the `include:` scopes of OAuth): the PDS resolves every NSID
  // to this account's repository instead of DNS `_lexicon.<authority>`. Its resolver
  // fetches through a safe fetch that refuses IP-literal hosts, so the PDS then reaches
  // the PLC as `localhost`.
  const lexiconAuthority = process.env.PLYR_DEVNET_LEXICON_AUTHORITY || ''

  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_DATA_DIRECTORY: path.join(dataDir, 'pds'),
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'pds', 'blobs'),
    PDS_BLOB_UPLOAD_LIMIT: args['blob-limit'],
    PDS_DID_PLC_URL: lexiconAuthority ? `http://localhost:${plcPort}` : plcUrl,
    ...(lexiconAuthority ? { PDS_LEXICON_AUTHORITY_DID: lexiconAuthority } : {}),
    PDS_JWT_SECRET: secrets.jwtSecret,
    PDS_ADMIN_PASSWORD: secrets.adminPassword,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: secrets.rotationKeyHex,
    PDS_INVITE_REQUIRED: 'false',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_BSKY_APP_VIEW_URL: 'http://127.0.0.1:1',
    PDS_BSKY_APP_VIEW_DID: 'did:example:appview',
    PDS_RATE_LIMITS_ENABLED: 'false',
    LOG_LEVEL: args['log-level'],
  })
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()
  const pdsUrl = `http://localhost:${pdsPort}`

  const accounts = []
  for (const spec of args.account) accounts.push(await ensureAccount(pdsUrl, spec))

  process.stdout.write(
    `PLYR_ATPROTO_NET_READY ${JSON.stringify({
      plc: plcUrl,
      pds: pdsUrl,
      adminPassword: secrets.adminPassword,
      blobLimit: Number(args['blob-limit']),
      accounts,
    })}\n`,
  )

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    log('stopping')
    await pds.destroy().catch((err) => log('pds stop:', err.message))
    await plc.destroy().catch((err) => log('plc stop:', err.message))
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  if (args['exit-with-stdin']) {
    // A parent that dies without signalling closes our stdin: stop with it.
    process.stdin.on('end', stop)
    process.stdin.resume()
  }
}

main().catch((err) => {
  log('failed to start:', err.stack || err.message)
  process.exit(1)
})
