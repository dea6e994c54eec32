// al workbench: keyboard shortcuts on the label page. Everything works
// without this script (Enter submits the form); it only adds Esc to skip,
// Ctrl+Z (in an empty field) to undo, and guards against double submits.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const answer = document.getElementById("answer");
  const value = document.getElementById("value");
  const skip = document.getElementById("skip");
  const undo = document.getElementById("undo-form");
  if (value) value.focus();
  if (answer) {
    answer.addEventListener("submit", () => {
      for (const b of answer.querySelectorAll("button")) b.disabled = true;
    });
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && skip) {
      e.preventDefault();
      skip.disabled = false;
      skip.click();
    } else if ((e.ctrlKey || e.metaKey) && e.key === "z" && undo && (!value || value.value === "")) {
      e.preventDefault();
      undo.submit();
    }
  });
});
