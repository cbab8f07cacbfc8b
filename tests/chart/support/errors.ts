// Error catalogue of the chart test support: every failure carries a stable code so a test can
// tell "tool not installed" from "helm rejected the chart" from "validator crashed".
export type ChartToolErrorCode =
  | 'TOOL_MISSING' // helm/kubeconform/skaffold not installed by scripts/k8s-tools.sh
  | 'TOOLS_SCRIPT_FAILED' // scripts/k8s-tools.sh path did not answer
  | 'HELM_FAILED' // helm template/lint exited non-zero
  | 'YAML_INVALID' // helm printed something that is not a list of YAML documents
  | 'KUBECONFORM_FAILED'; // kubeconform crashed or printed no JSON report

export class ChartToolError extends Error {
  readonly code: ChartToolErrorCode;
  /** stderr of the failing tool, when there is one. */
  readonly stderr: string;

  constructor(code: ChartToolErrorCode, message: string, stderr = '') {
    super(stderr ? `${message}\n--- stderr ---\n${stderr.trim()}` : message);
    this.name = 'ChartToolError';
    this.code = code;
    this.stderr = stderr;
  }
}
