// The queue's filters apply as soon as one is chosen (the Filter button stays for keyboards and no-script).
for (const select of document.querySelectorAll("form.filters select")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
