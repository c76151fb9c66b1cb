// copy_error.mjs - the error of a whole COPY as Redshift reports it, and the session name the
// cluster gives its AssumeRole calls (aws.py writes trust policies for it).

export const SESSION_NAME = 'redshift-standin-copy';

// An error Redshift reports for a whole COPY: XX000, as the tutorial's failed loads show
// ("[SQL State=XX000]", https://docs.aws.amazon.com/redshift/latest/dg/tutorial-loading-run-copy.html).
export class CopyError extends Error {
  constructor(message, detail = {}, code = 'XX000') {
    super(message);
    this.code = code;
    this.detailFields = detail;
  }
  // Redshift's DETAIL block for internal errors.
  get detail() {
    const d = this.detailFields;
    const lines = ['  -----------------------------------------------', `  error:  ${this.message}`];
    if (d.code !== undefined) lines.push(`  code:      ${d.code}`);
    if (d.context) lines.push(`  context:   ${d.context}`);
    lines.push(`  query:     ${d.query ?? 0}`);
    lines.push('  location:  redshift_standin copy.mjs');
    lines.push(`  process:   padbmaster [pid=${process.pid}]`);
    lines.push('  -----------------------------------------------');
    return '\n' + lines.join('\n');
  }
}
