/** Violations per day, stacked by severity: an SVG drawn on the server (no script, no library). */
import { SEVERITIES, type Severity } from '../../domain/severity.js';

export interface Day {
  date: string;
  total: number;
  by_severity: Record<Severity, number>;
}

const FILL: Record<Severity, string> = {
  critical: '#b42318',
  high: '#e0651b',
  medium: '#c99a06',
  low: '#3a78d6',
};
const [W, H, LEFT, BOTTOM, TOP] = [720, 220, 36, 22, 8];

/** A round axis maximum (1, 2, 5 × 10^n) at or above `n`. */
function niceMax(n: number): number {
  if (n <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((v) => v >= n)!;
}

export function SeverityChart(props: { days: Day[] }) {
  const days = props.days;
  const max = niceMax(Math.max(0, ...days.map((d) => d.total)));
  const plotH = H - BOTTOM - TOP;
  const slot = (W - LEFT) / Math.max(days.length, 1);
  const barW = Math.max(4, slot * 0.62);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  // Bottom to top: low first, critical on top.
  const order = SEVERITIES;
  return (
    <div class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label={`Violations per day by severity, last ${days.length} days`}
      >
        {[0, max / 2, max].map((v) => (
          <>
            <line x1={LEFT} x2={W} y1={y(v)} y2={y(v)} stroke="#d0d7de" stroke-width="1" />
            <text x={LEFT - 6} y={y(v) + 4} text-anchor="end">
              {String(v)}
            </text>
          </>
        ))}
        {days.map((d, i) => {
          const x = LEFT + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g>
              <title>{`${d.date}: ${d.total} (${SEVERITIES.map((s) => `${s} ${d.by_severity[s]}`).join(', ')})`}</title>
              {order.map((s) => {
                const n = d.by_severity[s];
                if (!n) return null;
                const rect = (
                  <rect x={x} y={y(base + n)} width={barW} height={y(base) - y(base + n)} fill={FILL[s]} />
                );
                base += n;
                return rect;
              })}
              <text x={x + barW / 2} y={H - 6} text-anchor="middle">
                {d.date.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <div class="legend">
        {[...SEVERITIES].reverse().map((s) => (
          <span>
            <span class={`swatch ${s}`} />
            {s}
          </span>
        ))}
      </div>
    </div>
  );
}
