// skillgrove UI: the little JavaScript the pages use (no libraries, nothing fetched).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const scene = document.getElementById("scene");
  if (scene) initCorrection(scene);
  // "/" focuses the library search box
  const q = document.getElementById("q");
  if (q) {
    document.addEventListener("keydown", (e) => {
      if (e.key === "/" && document.activeElement !== q && !(e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        q.focus();
      }
    });
  }
});

// Corrections: click the image to set the active key point, the slider sets its angle.
function initCorrection(scene) {
  const form = document.getElementById("correct-form");
  const img = document.getElementById("scene-img");
  const slider = document.getElementById("angle");
  const angleText = document.getElementById("angle-value");
  const status = document.getElementById("status");
  const width = Number(scene.dataset.width);
  const height = Number(scene.dataset.height);
  const keys = Array.from(form.querySelectorAll(".coords")).map((el) => el.dataset.key);
  const original = {};
  const changed = {};
  for (const el of form.querySelectorAll(".coords")) {
    original[el.dataset.key] = { row: Number(el.dataset.row), col: Number(el.dataset.col), angle: Number(el.dataset.angle) };
    changed[el.dataset.key] = false;
  }
  let active = keys[0];

  const input = (key, field) => form.elements[`${key}_${field}`];
  const pose = (key) => ({
    row: Number(input(key, "row").value),
    col: Number(input(key, "col").value),
    angle: Number(input(key, "angle").value),
  });

  function draw() {
    for (const key of keys) {
      const g = document.getElementById(`new-${key}`);
      const p = pose(key);
      if (!g || [p.row, p.col, p.angle].some(Number.isNaN)) continue;
      g.setAttribute("transform", `translate(${p.col.toFixed(2)} ${p.row.toFixed(2)}) rotate(${(-p.angle).toFixed(1)})`);
      g.classList.toggle("hidden", !changed[key]);
    }
    const p = pose(active);
    slider.value = String(Math.round(p.angle));
    angleText.textContent = String(Math.round(p.angle));
    const done = keys.filter((k) => changed[k]);
    status.textContent = done.length
      ? done.map((k) => { const q = pose(k); return `${k}: (${q.row.toFixed(1)}, ${q.col.toFixed(1)}) at ${q.angle.toFixed(0)}°`; }).join("; ")
      : "Nothing changed yet: storing now keeps the prediction.";
  }

  function setField(key, field, value) {
    input(key, field).value = field === "angle" ? value.toFixed(1) : value.toFixed(2);
    changed[key] = true;
  }

  img.addEventListener("click", (e) => {
    const r = img.getBoundingClientRect();
    const col = Math.min(width, Math.max(0, ((e.clientX - r.left) / r.width) * width));
    const row = Math.min(height, Math.max(0, ((e.clientY - r.top) / r.height) * height));
    setField(active, "col", col);
    setField(active, "row", row);
    draw();
  });
  slider.addEventListener("input", () => {
    setField(active, "angle", Number(slider.value));
    draw();
  });
  for (const radio of form.querySelectorAll('input[name="active"]')) {
    radio.addEventListener("change", () => { active = radio.value; draw(); });
  }
  for (const el of form.querySelectorAll('input[type="number"]')) {
    el.addEventListener("input", () => { changed[el.name.split("_")[0]] = true; draw(); });
  }
  document.getElementById("reset").addEventListener("click", () => {
    for (const key of keys) {
      for (const field of ["row", "col", "angle"]) input(key, field).value = original[key][field];
      changed[key] = false;
    }
    draw();
  });
  draw();
  scene.dataset.ready = "1";
}
