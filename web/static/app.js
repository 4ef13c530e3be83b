// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Take keyboard and screen-reader users straight to the list of problems on a failed form.
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) summary.focus();
});
