// A hand-drawn SVG sparkline: one polyline over the last samples, scaled to its own maximum.

const SVG = 'http://www.w3.org/2000/svg';

export interface Chart {
  readonly element: HTMLElement;
  update(values: readonly number[], label: string): void;
}

/** A small chart titled `title`; `id` names its figure (`chart-<id>`). */
export function createChart(id: string, title: string): Chart {
  const figure = document.createElement('figure');
  figure.id = `chart-${id}`;
  const caption = document.createElement('figcaption');
  const name = document.createElement('span');
  name.textContent = title;
  const value = document.createElement('span');
  value.className = 'value';
  caption.append(name, value);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', '0 0 300 60');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const line = document.createElementNS(SVG, 'polyline');
  svg.append(line);
  figure.append(caption, svg);
  return {
    element: figure,
    update(values, label) {
      value.textContent = label;
      const n = values.length;
      const max = Math.max(1, ...values);
      const points: string[] = [];
      for (let i = 0; i < n; i++) {
        const x = n === 1 ? 300 : (i / (n - 1)) * 300;
        const y = 58 - ((values[i] ?? 0) / max) * 56;
        points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      }
      line.setAttribute('points', points.join(' '));
    },
  };
}
