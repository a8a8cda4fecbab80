/**
 * A horizontal bar chart as a standalone SVG document, with an interquartile whisker per bar.
 * Written by the suite itself, so the charts need no plotting dependency.
 */

export interface Bar {
  readonly label: string
  readonly value: number
  /** First and third quartile, drawn as a whisker when present. */
  readonly low?: number
  readonly high?: number
  /** Text after the value and unit, for example `, 0.85x raw`. */
  readonly note?: string
}

export interface BarChart {
  readonly title: string
  /** Unit of the values, for example `statements/s`. */
  readonly unit: string
  readonly bars: readonly Bar[]
  /** Draw the value axis on a log scale, for values that span orders of magnitude. */
  readonly logScale?: boolean
}

const WIDTH = 860
const LABEL_WIDTH = 300
const VALUE_WIDTH = 220
const BAR_HEIGHT = 20
const GAP = 8
const TOP = 44

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

/** Formats a rate with thousands separators, or with significant digits below 10. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (Math.abs(value) < 10) return value.toPrecision(3)
  return Math.round(value).toLocaleString('en-US')
}

/** Renders the chart as an SVG document. */
export function renderBarChart(chart: BarChart): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH
  const values = chart.bars.flatMap((bar) => [bar.value, bar.high ?? bar.value])
  const max = Math.max(...values.filter((value) => Number.isFinite(value) && value > 0), 1)
  const min = Math.min(...values.filter((value) => Number.isFinite(value) && value > 0), max)
  const logFloor = Math.log10(Math.max(min / 2, 1e-9))
  const scale = (value: number): number => {
    if (!Number.isFinite(value) || value <= 0) return 0
    if (chart.logScale !== true) return (value / max) * plotWidth
    return ((Math.log10(value) - logFloor) / (Math.log10(max) - logFloor)) * plotWidth
  }

  const height = TOP + chart.bars.length * (BAR_HEIGHT + GAP) + 24
  const rows = chart.bars.map((bar, index) => {
    const y = TOP + index * (BAR_HEIGHT + GAP)
    const middle = y + BAR_HEIGHT / 2
    const whisker =
      bar.low !== undefined && bar.high !== undefined
        ? `<line x1="${LABEL_WIDTH + scale(bar.low)}" x2="${LABEL_WIDTH + scale(bar.high)}" ` +
          `y1="${middle}" y2="${middle}" stroke="#1b1b1b" stroke-width="1.5"/>`
        : ''
    const note = bar.note ?? ''
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(scale(bar.value), 1)}" height="${BAR_HEIGHT}" fill="#4c78a8"/>`,
      whisker,
      `<text x="${LABEL_WIDTH + plotWidth + 8}" y="${middle + 4}">` +
        `${escapeXml(`${formatNumber(bar.value)} ${chart.unit}${note}`)}</text>`,
    ].join('')
  })

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    ...rows,
    `<text x="12" y="${height - 8}" fill="#555555">Bars: median${chart.logScale === true ? ' (log scale)' : ''}. ` +
      `Whiskers: first to third quartile.</text>`,
    '</svg>',
    '',
  ].join('\n')
}
