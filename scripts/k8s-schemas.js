#!/usr/bin/env node
// Generates the JSON schema folder kubeconform validates against, offline, from
//  - the Kubernetes OpenAPI v2 document (api/openapi-spec/swagger.json of k8s.io/kubernetes), and
//  - CustomResourceDefinition YAML files (their openAPIV3Schema), e.g. Gateway API, ServiceMonitor.
//
// Layout (what kubeconform's -schema-location template expects for strict standalone schemas):
//   <out>/v<version>-standalone-strict/<kind>[-<group's first DNS label>]-<apiVersion>.json
// all lowercase, e.g. deployment-apps-v1.json, service-v1.json, tlsroute-gateway-v1alpha2.json.
//
// Every schema is standalone: $refs are inlined, except a type that contains itself
// (JSONSchemaProps), which goes to the file's own "definitions". Strictness follows kubectl's
// client validation: an object with declared properties admits no other property. Like the API
// server (and openapi2jsonschema's allow-null-optional-fields), an optional field may be null.
//
// usage: node scripts/k8s-schemas.js --swagger <swagger.json> --kubernetes-version 1.30.14
//          [--crds <folder>]... --out <folder>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const jsYaml = require('js-yaml');

const loadAllYaml = jsYaml.safeLoadAll ?? jsYaml.loadAll; // js-yaml v3 or v4

// The API server parses a Quantity from a string in this grammar or from a JSON number.
const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

// Definitions whose swagger text does not describe what the API server accepts.
const NATIVE_OVERRIDES = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': () => ({ type: ['string', 'integer'] }),
  'io.k8s.apimachinery.pkg.api.resource.Quantity': () => ({ type: ['string', 'number'], pattern: QUANTITY_PATTERN }),
};

// Keywords that mean the same in OpenAPI (2 and 3.0) and JSON Schema draft 4; everything else
// (descriptions, x-kubernetes-* hints, CEL rules, defaults, examples) is dropped.
const KEPT_KEYWORDS = new Set([
  'type', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  'required',
]);

function parseArgs(argv) {
  const args = { crds: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    if (flag === '--swagger') args.swagger = value;
    else if (flag === '--kubernetes-version') args.version = value.replace(/^v/, '');
    else if (flag === '--crds') args.crds.push(value);
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!args.swagger || !args.version || !args.out) {
    throw new Error('usage: k8s-schemas.js --swagger <file> --kubernetes-version <x.y.z> [--crds <dir>]... --out <dir>');
  }
  return args;
}

/** kubeconform's file name: lowercased kind, then the group's first DNS label, then the version. */
function schemaFileName(group, version, kind) {
  const groupLabel = group ? `-${group.split('.')[0]}` : '';
  return `${kind}${groupLabel}-${version}.json`.toLowerCase();
}

/** Adds null to a schema's accepted types (a copy; inlined schemas are shared). */
function allowNull(schema) {
  if (schema.type === undefined) return schema; // no type constraint: null already passes
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('null')) return schema;
  const copy = { ...schema, type: [...types, 'null'] };
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) copy.enum = [...schema.enum, null];
  return copy;
}

/**
 * Converts one OpenAPI schema node to JSON Schema draft 4. `resolveRef(name)` inlines a
 * definition (native documents only); `dialect` is 'openapi2' or 'openapi3' (CRDs).
 */
function convertNode(node, resolveRef, dialect) {
  if (node === undefined || node === null || typeof node !== 'object') return {};
  if (node.$ref) {
    const prefix = '#/definitions/';
    if (!node.$ref.startsWith(prefix)) throw new Error(`unsupported $ref ${node.$ref}`);
    return resolveRef(node.$ref.slice(prefix.length));
  }
  if (node.format === 'int-or-string' || node['x-kubernetes-int-or-string'] === true) {
    // Replaces `type: string, format: int-or-string` and `anyOf: [{type: integer}, {type: string}]`.
    const out = { type: ['string', 'integer'] };
    if (node.pattern) out.pattern = node.pattern;
    return node.nullable === true ? allowNull(out) : out;
  }
  let out = {};
  for (const key of Object.keys(node)) if (KEPT_KEYWORDS.has(key)) out[key] = node[key];
  for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(node[combinator])) out[combinator] = node[combinator].map((n) => convertNode(n, resolveRef, dialect));
  }
  if (node.not) out.not = convertNode(node.not, resolveRef, dialect);
  if (node.items) {
    out.items = Array.isArray(node.items)
      ? node.items.map((n) => convertNode(n, resolveRef, dialect))
      : convertNode(node.items, resolveRef, dialect);
  }
  const preserveUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (node.properties && typeof node.properties === 'object') {
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    out.properties = {};
    for (const [name, child] of Object.entries(node.properties)) {
      const converted = convertNode(child, resolveRef, dialect);
      out.properties[name] = required.has(name) ? converted : allowNull(converted);
    }
  }
  if (node.additionalProperties !== undefined) {
    out.additionalProperties =
      typeof node.additionalProperties === 'boolean'
        ? node.additionalProperties
        : convertNode(node.additionalProperties, resolveRef, dialect);
  } else if (node.properties && Object.keys(node.properties).length > 0 && !preserveUnknown) {
    out.additionalProperties = false; // strict: no field the API does not declare
  }
  if (dialect === 'openapi3' && node.nullable === true) out = allowNull(out);
  return out;
}

/** Pins apiVersion and kind, and requires them (kubeconform picked the file by them anyway). */
function pinTypeMeta(schema, apiVersion, kind) {
  schema.properties = schema.properties ?? {};
  schema.properties.apiVersion = { type: 'string', enum: [apiVersion] };
  schema.properties.kind = { type: 'string', enum: [kind] };
  schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind'])];
  return schema;
}

/** Builds the inliner for the native definitions: recursion goes through local definitions. */
function nativeInliner(definitions) {
  return function standaloneSchema(rootName) {
    const localDefinitions = {};
    const pending = [];
    const expand = (name, stack) => {
      if (NATIVE_OVERRIDES[name]) return NATIVE_OVERRIDES[name]();
      const definition = definitions[name];
      if (!definition) throw new Error(`$ref to unknown definition ${name}`);
      if (stack.includes(name)) {
        if (!(name in localDefinitions)) {
          localDefinitions[name] = null; // reserved; filled below
          pending.push(name);
        }
        return { $ref: `#/definitions/${name}` };
      }
      const inner = [...stack, name];
      return convertNode(definition, (ref) => expand(ref, inner), 'openapi2');
    };
    const schema = expand(rootName, []);
    while (pending.length > 0) {
      const name = pending.shift();
      localDefinitions[name] = convertNode(definitions[name], (ref) => expand(ref, [name]), 'openapi2');
    }
    if (Object.keys(localDefinitions).length > 0) schema.definitions = localDefinitions;
    return schema;
  };
}

function nativeSchemas(swaggerFile) {
  const definitions = JSON.parse(fs.readFileSync(swaggerFile, 'utf8')).definitions;
  const standaloneSchema = nativeInliner(definitions);
  const out = [];
  for (const [name, definition] of Object.entries(definitions)) {
    const gvks = definition['x-kubernetes-group-version-kind'];
    // Types shared by every group (DeleteOptions, WatchEvent, Status) are request/response
    // envelopes, never manifests.
    if (!Array.isArray(gvks) || gvks.length !== 1) continue;
    const { group, version, kind } = gvks[0];
    const apiVersion = group ? `${group}/${version}` : version;
    out.push({ source: name, group, version, kind, schema: pinTypeMeta(standaloneSchema(name), apiVersion, kind) });
  }
  return { out, objectMeta: standaloneSchema('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta') };
}

function crdSchemas(folder, objectMeta) {
  const out = [];
  const files = fs.readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const file of files) {
    for (const doc of loadAllYaml(fs.readFileSync(path.join(folder, file), 'utf8'))) {
      if (!doc || doc.kind !== 'CustomResourceDefinition') continue; // e.g. kustomization.yaml
      const { group, names, versions } = doc.spec;
      for (const v of versions) {
        if (v.served === false) continue;
        const openApi = v.schema && v.schema.openAPIV3Schema;
        if (!openApi) throw new Error(`${file}: ${names.kind} ${v.name} has no openAPIV3Schema`);
        const noRefs = (ref) => {
          throw new Error(`${file}: CRD schemas cannot contain $ref (${ref})`);
        };
        const schema = convertNode(openApi, noRefs, 'openapi3');
        schema.properties = schema.properties ?? {};
        // The API server validates a custom resource's metadata as ObjectMeta, whatever the CRD says.
        schema.properties.metadata = allowNull(objectMeta);
        schema.additionalProperties = false;
        out.push({
          source: `${path.basename(folder)}/${file}`,
          group,
          version: v.name,
          kind: names.kind,
          schema: pinTypeMeta(schema, `${group}/${v.name}`, names.kind),
        });
      }
    }
  }
  if (out.length === 0) throw new Error(`no CustomResourceDefinition found in ${folder}`);
  return out;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { out: native, objectMeta } = nativeSchemas(args.swagger);
  const custom = args.crds.flatMap((folder) => crdSchemas(folder, objectMeta));
  const target = path.join(args.out, `v${args.version}-standalone-strict`);
  fs.mkdirSync(target, { recursive: true });
  const written = new Map();
  const index = [];
  for (const entry of [...native, ...custom]) {
    const file = schemaFileName(entry.group, entry.version, entry.kind);
    // Two groups sharing a first label and a kind would overwrite each other's schema.
    if (written.has(file)) throw new Error(`${file} would come from both ${written.get(file)} and ${entry.source}`);
    written.set(file, entry.source);
    fs.writeFileSync(path.join(target, file), JSON.stringify(entry.schema));
    const apiVersion = entry.group ? `${entry.group}/${entry.version}` : entry.version;
    index.push({ apiVersion, kind: entry.kind, file, source: entry.source });
  }
  fs.writeFileSync(path.join(args.out, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  process.stderr.write(
    `k8s-schemas: ${native.length} Kubernetes and ${custom.length} custom resource schemas in ${target} (${Date.now() - started} ms)\n`,
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`k8s-schemas: ${err.message}\n`);
  process.exit(1);
}
