import { ChartToolError } from './errors';

/** The part of a Kubernetes object the tests read; the rest is reachable through the index signature. */
export interface K8sMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: K8sMetadata;
  // `any` on purpose: tests walk deep, kind-specific trees (spec.template.spec.containers[0]...)
  // and asserting on them is the check; a typed model of every kind would add nothing here.
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [field: string]: unknown;
}

interface YamlCodec {
  loadAll(text: string): unknown[];
  dump(value: unknown, options?: Record<string, unknown>): string;
}

// js-yaml is already in node_modules (v3 through jest; the lead pins it at the root). v3 names the
// safe loader safeLoadAll; v4 removed it and made loadAll safe — accept either.
const jsYaml = require('js-yaml') as YamlCodec & { safeLoadAll?: (text: string) => unknown[]; safeDump?: YamlCodec['dump'] };
const loadAllSafely = (text: string): unknown[] => (jsYaml.safeLoadAll ?? jsYaml.loadAll)(text);
const dumpSafely: YamlCodec['dump'] = (value, options) => (jsYaml.safeDump ?? jsYaml.dump)(value, options);

/** Parses a multi-document YAML stream (helm output) into objects; empty documents are dropped. */
export function parseManifests(text: string): K8sObject[] {
  let docs: unknown[];
  try {
    docs = loadAllSafely(text);
  } catch (err) {
    throw new ChartToolError('YAML_INVALID', `rendered output is not valid YAML: ${(err as Error).message}`);
  }
  const objects: K8sObject[] = [];
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc) || typeof (doc as K8sObject).kind !== 'string') {
      throw new ChartToolError('YAML_INVALID', `rendered document is not a Kubernetes object: ${JSON.stringify(doc).slice(0, 200)}`);
    }
    objects.push(doc as K8sObject);
  }
  return objects;
}

/** Serialises objects back to one multi-document YAML stream (e.g. to validate a modified copy). */
export function toYaml(objects: readonly unknown[]): string {
  return objects.map((o) => `---\n${dumpSafely(o, { noRefs: true, lineWidth: -1 })}`).join('');
}

export function objectsOfKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The single object of a kind and name; throws when absent so a test fails with the reason. */
export function findObject(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) {
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ');
    throw new Error(`no ${kind} named ${name} among: ${names}`);
  }
  return found;
}

/** Pod spec of a workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), else undefined. */
export function podSpecOf(object: K8sObject): any {
  switch (object.kind) {
    case 'Pod':
      return object.spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return object.spec?.template?.spec;
    case 'CronJob':
      return object.spec?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
}

/** Containers and init containers of a workload, each with the field it came from. */
export function containersOf(object: K8sObject): { name: string; source: 'containers' | 'initContainers'; container: any }[] {
  const pod = podSpecOf(object);
  if (!pod) return [];
  const list: { name: string; source: 'containers' | 'initContainers'; container: any }[] = [];
  for (const source of ['initContainers', 'containers'] as const) {
    for (const container of pod[source] ?? []) list.push({ name: container.name, source, container });
  }
  return list;
}
