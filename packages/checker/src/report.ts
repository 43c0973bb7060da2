import type { CheckResult } from './check.js';
import type { History, Operation } from './history.js';
import { describeOperation, show } from './witness.js';

/**
 * One self-contained HTML file (CSS, script and data inlined; no network) that draws each failing
 * key's history as bars per process on a time axis, marks the witness, and steps through the
 * partial linearization.
 */

/** Operations drawn per key; a larger key is drawn around the point of failure. */
const opsDrawnMax = 600;
/** Steps of the prefix that stay steppable when the key is drawn in part. */
const stepsShownMax = 400;

interface DrawnOp {
  readonly id: number;
  readonly process: string;
  readonly label: string;
  readonly status: string;
  readonly call: number;
  readonly ret: number | null;
}

interface DrawnKey {
  readonly key: string;
  readonly message: string;
  readonly opsTotal: number;
  readonly ops: readonly DrawnOp[];
  readonly processes: readonly string[];
  /** Steps (op ids) of the prefix that are drawn, and the number of steps before them. */
  readonly steps: readonly number[];
  readonly stepsBefore: number;
  readonly valuesAfter: readonly string[];
  readonly valueBefore: string;
  readonly blocked: number | null;
  readonly timeMin: number;
  readonly timeMax: number;
}

export function renderReport(history: History, result: CheckResult, title: string): string {
  const keys = result.witnesses.map((w) => drawKey(history, w));
  const data = {
    title,
    valid: result.valid,
    ops: result.ops,
    keys: result.keys,
    ms: result.ms,
    failedKeys: result.failedKeys,
    unknownKeys: result.unknownKeys,
    drawn: keys,
  };
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>kvapp-check: ${escapeHtml(title)}</title>
<style>${css}</style></head>
<body>
<h1>kvapp-check report</h1>
<div id="summary"></div>
<div id="keys"></div>
<script id="data" type="application/json">${json}</script>
<script>${script}</script>
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function drawKey(history: History, w: CheckResult['witnesses'][number]): DrawnKey {
  const all = history.operations.filter((op) => op.key === w.key);
  const focusId = w.blocked ?? w.prefix[w.prefix.length - 1] ?? all[0]!.id;
  const stepsBefore = Math.max(0, w.prefix.length - stepsShownMax);
  const steps = w.prefix.slice(stepsBefore);
  let shown: Operation[] = all;
  if (all.length > opsDrawnMax) {
    const focus = all.findIndex((op) => op.id === focusId);
    const keep = new Set<number>(steps);
    keep.add(focusId);
    const lo = Math.max(0, focus - Math.floor(opsDrawnMax * 0.75));
    for (let i = lo; i < Math.min(all.length, lo + opsDrawnMax); i++) keep.add(all[i]!.id);
    shown = all.filter((op) => keep.has(op.id));
  }
  const ops = shown.map((op) => ({
    id: op.id,
    process: String(op.process),
    label: describeOperation(op),
    status: op.status,
    call: op.callTime,
    ret: op.retTime,
  }));
  const processes = [...new Set(ops.map((o) => o.process))];
  let timeMin = Infinity;
  let timeLast = -Infinity;
  for (const o of ops) {
    timeMin = Math.min(timeMin, o.call);
    timeLast = Math.max(timeLast, o.ret ?? o.call);
  }
  // Room on the right for operations that never returned.
  const timeMax = timeLast + Math.max(1, (timeLast - timeMin) * 0.05);
  return {
    key: w.key,
    message: w.message,
    opsTotal: all.length,
    ops,
    processes,
    steps,
    stepsBefore,
    valuesAfter: w.valuesAfter.slice(stepsBefore).map(show),
    valueBefore: stepsBefore > 0 ? show(w.valuesAfter[stepsBefore - 1]!) : 'absent',
    blocked: w.blocked,
    timeMin,
    timeMax,
  };
}

const css = `
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.verdict-ok{color:#17752b}.verdict-bad{color:#b00020}.verdict-unknown{color:#a66300}
.message{background:#fff4f4;border-left:4px solid #b00020;padding:8px 12px;margin:8px 0}
.note{color:#666;font-size:12px}
.controls{margin:8px 0;display:flex;gap:8px;align-items:center}
.controls button{padding:3px 10px}
.controls input[type=range]{width:320px}
.timeline{position:relative;overflow-x:auto;border:1px solid #ddd;background:#fafafa}
.canvas{position:relative}
.row-label{position:absolute;left:0;width:90px;font-size:11px;color:#555;padding-left:4px;white-space:nowrap;overflow:hidden}
.op-bar{position:absolute;height:14px;border-radius:3px;background:#b9c7d6;border:1px solid #7d93aa;box-sizing:border-box;font-size:10px;overflow:hidden;white-space:nowrap;padding:0 2px;cursor:default}
.op-bar.info{background:repeating-linear-gradient(45deg,#e5e5e5,#e5e5e5 4px,#d0d0d0 4px,#d0d0d0 8px);border-style:dashed}
.op-bar.linearized{background:#a8e0b0;border-color:#2e8b3e}
.op-bar.current{background:#ffd54f;border-color:#b58900;z-index:2}
.op-bar.blocked{background:#ff8a80;border:2px solid #b00020;z-index:3}
.lp{position:absolute;width:2px;background:#2e8b3e;opacity:.6}
.state{font-family:ui-monospace,monospace}
ol.order{font-family:ui-monospace,monospace;font-size:12px;max-height:220px;overflow:auto;border:1px solid #eee;padding-left:48px}
ol.order li.current{background:#fff3c4}
ol.order li.blocked{color:#b00020;font-weight:bold;list-style:none;margin-left:-20px}
`;

// The page script: plain ES2017, no modules, no network.
const script = `
(function(){
var data=JSON.parse(document.getElementById('data').textContent);
var sum=document.getElementById('summary');
var v=data.valid===true?'linearizable':data.valid===false?'NOT linearizable':'unknown (timed out)';
var cls=data.valid===true?'verdict-ok':data.valid===false?'verdict-bad':'verdict-unknown';
sum.innerHTML='<p><b>'+esc(data.title)+'</b>: <span class="verdict '+cls+'">'+v+'</span> &mdash; '+data.ops+' operations on '+data.keys+' keys, checked in '+data.ms+' ms.</p>'+
 (data.failedKeys.length?'<p>Failing keys: <span id="failed-keys">'+data.failedKeys.map(esc).join(', ')+'</span></p>':'')+
 (data.unknownKeys.length?'<p>Unfinished keys: '+data.unknownKeys.map(esc).join(', ')+'</p>':'');
var root=document.getElementById('keys');
data.drawn.forEach(function(k){root.appendChild(drawKey(k));});
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';';});}
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e;}
function drawKey(k){
  var sec=el('section','key-section');sec.setAttribute('data-key',k.key);
  sec.appendChild(el('h2',null,'Key '+JSON.stringify(k.key)));
  sec.appendChild(el('div','message',k.message));
  if(k.ops.length<k.opsTotal)sec.appendChild(el('p','note','Showing '+k.ops.length+' of '+k.opsTotal+' operations, around the point of failure.'));
  if(k.stepsBefore>0)sec.appendChild(el('p','note','The first '+k.stepsBefore+' steps of the prefix are not drawn; the value after them was '+k.valueBefore+'.'));
  var controls=el('div','controls');
  var first=el('button','btn-first','⏮');var prev=el('button','btn-prev','◀ prev');var next=el('button','btn-next','next ▶');var last=el('button','btn-last','⏭');
  var range=el('input','step-range');range.type='range';range.min=0;range.max=k.steps.length;range.value=k.steps.length;
  var label=el('span','step-label');var state=el('span','state state-label');
  [first,prev,range,next,last,label,state].forEach(function(x){controls.appendChild(x);});
  sec.appendChild(controls);
  var tl=el('div','timeline');var canvas=el('div','canvas');tl.appendChild(canvas);sec.appendChild(tl);
  var left=96,width=Math.max(900,Math.min(12000,k.ops.length*14)),rowH=20;
  canvas.style.width=(left+width+20)+'px';canvas.style.height=(k.processes.length*rowH+10)+'px';
  var span=k.timeMax-k.timeMin;function x(t){return left+(t-k.timeMin)/span*width;}
  var rows={};k.processes.forEach(function(p,i){rows[p]=i;var l=el('div','row-label','process '+p);l.style.top=(i*rowH+4)+'px';canvas.appendChild(l);});
  var bars={};var byId={};
  k.ops.forEach(function(o){
    byId[o.id]=o;
    var b=el('div','op-bar'+(o.status==='info'?' info':''),o.label.replace(/ \\(process.*$/,''));
    b.setAttribute('data-op-id',o.id);b.title=o.label;
    var x0=x(o.call),x1=o.ret==null?left+width:x(o.ret);
    b.style.left=x0+'px';b.style.width=Math.max(3,x1-x0)+'px';b.style.top=(rows[o.process]*rowH+4)+'px';
    canvas.appendChild(b);bars[o.id]=b;
  });
  if(k.blocked!=null&&bars[k.blocked])bars[k.blocked].classList.add('blocked');
  var list=el('ol','order');list.start=k.stepsBefore+1;var items=[];
  k.steps.forEach(function(id,i){var o=byId[id];var li=el('li',null,(o?o.label:'op '+id)+'  ⇒ '+k.valuesAfter[i]);list.appendChild(li);items.push(li);});
  if(k.blocked!=null){var o=byId[k.blocked];list.appendChild(el('li','blocked','✗ '+(o?o.label:'op '+k.blocked)+' cannot be placed'));}
  sec.appendChild(list);
  function show(n){
    n=Math.max(0,Math.min(k.steps.length,n));range.value=n;
    k.steps.forEach(function(id,i){var b=bars[id];if(!b)return;b.classList.toggle('linearized',i<n);b.classList.toggle('current',i===n-1);
      items[i].className=i===n-1?'current':'';});
    label.textContent='step '+(k.stepsBefore+n)+' of '+(k.stepsBefore+k.steps.length);
    state.textContent='value: '+(n===0?k.valueBefore:k.valuesAfter[n-1]);
    sec.setAttribute('data-step',String(n));
  }
  first.onclick=function(){show(0);};last.onclick=function(){show(k.steps.length);};
  prev.onclick=function(){show(Number(range.value)-1);};next.onclick=function(){show(Number(range.value)+1);};
  range.oninput=function(){show(Number(range.value));};
  show(k.steps.length);
  return sec;
}
})();
`;
