// Support for the chart tests (tests/chart): render charts/commucat with the pinned helm, parse
// the objects, lint, and validate strictly with kubeconform against the generated 1.30 schemas.
export { ChartToolError } from './errors';
export type { ChartToolErrorCode } from './errors';
export { CHART_DIR, EXAMPLE_VALUES_DIR, KUBERNETES_VERSION, REPO_ROOT } from './paths';
export { generatedSchemas, hasSkaffold, requireSchemas, requireTool, toolPaths } from './tools';
export type { GeneratedSchema, ToolPaths } from './tools';
export { containersOf, findObject, objectsOfKind, parseManifests, podSpecOf, toYaml } from './manifests';
export type { K8sMetadata, K8sObject } from './manifests';
export { helmLint, renderChart, renderChartRaw, renderChartText } from './helm';
export type { RenderOptions, ToolRun } from './helm';
export { describeProblems, kubeconform } from './kubeconform';
export type { KubeconformReport, KubeconformResult, KubeconformStatus, KubeconformSummary } from './kubeconform';
export { exampleValuesFiles } from './examples';
export { skaffold } from './skaffold';
