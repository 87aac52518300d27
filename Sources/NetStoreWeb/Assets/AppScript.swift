/// The page script: uploads with progress (file picker and drag and drop),
/// confirmations for admin removals. Served from this server; no inline script.
enum AppScript {
    static let source = #"""
    "use strict";
    (function () {
      const csrf = document.querySelector('meta[name="csrf-token"]');
      const tools = document.querySelector(".tools[data-upload]");

      document.querySelectorAll("form.confirm").forEach(function (form) {
        form.addEventListener("submit", function (event) {
          if (!window.confirm(form.dataset.confirm)) event.preventDefault();
        });
      });

      if (!tools || !csrf) return;
      const input = document.getElementById("upload-input");
      const list = document.getElementById("uploads");
      const zone = document.getElementById("dropzone");

      function formatSize(bytes) {
        const units = ["B", "KiB", "MiB", "GiB", "TiB"];
        let value = bytes, unit = 0;
        while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
        return (unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)) + " " + units[unit];
      }

      function uploadOne(file) {
        return new Promise(function (resolve) {
          const item = document.createElement("li");
          const label = document.createElement("span");
          label.className = "upload-name";
          label.textContent = file.name;
          const bar = document.createElement("progress");
          bar.max = 1; bar.value = 0;
          const status = document.createElement("span");
          status.className = "upload-status";
          status.textContent = "0 of " + formatSize(file.size);
          item.append(label, bar, status);
          list.append(item);

          const xhr = new XMLHttpRequest();
          xhr.open("POST", tools.dataset.upload + "?name=" + encodeURIComponent(file.name));
          xhr.setRequestHeader("X-CSRF-Token", csrf.content);
          xhr.setRequestHeader("Content-Type", "application/octet-stream");
          xhr.upload.onprogress = function (event) {
            if (event.lengthComputable && event.total > 0) {
              bar.value = event.loaded / event.total;
              status.textContent = formatSize(event.loaded) + " of " + formatSize(event.total);
            }
          };
          xhr.onload = function () {
            const ok = xhr.status >= 200 && xhr.status < 300;
            bar.value = ok ? 1 : bar.value;
            item.className = ok ? "done" : "failed";
            status.textContent = ok ? "Done" : (xhr.responseText || ("Failed (" + xhr.status + ")"));
            resolve(ok);
          };
          xhr.onerror = function () {
            item.className = "failed";
            status.textContent = "The connection to the web viewer failed.";
            resolve(false);
          };
          xhr.send(file);
        });
      }

      async function uploadAll(files) {
        if (!files.length) return;
        let allOk = true;
        for (const file of files) {
          if (!(await uploadOne(file))) allOk = false;
        }
        if (allOk) window.location.reload();
        else document.body.dataset.uploadFailed = "true";
      }

      input.addEventListener("change", function () {
        uploadAll(Array.from(input.files));
        input.value = "";
      });

      let depth = 0;
      document.addEventListener("dragenter", function (event) {
        if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
        depth++;
        zone.hidden = false;
      });
      document.addEventListener("dragleave", function () {
        depth = Math.max(0, depth - 1);
        if (depth === 0) zone.hidden = true;
      });
      document.addEventListener("dragover", function (event) { event.preventDefault(); });
      document.addEventListener("drop", function (event) {
        event.preventDefault();
        depth = 0;
        zone.hidden = true;
        if (event.dataTransfer) uploadAll(Array.from(event.dataTransfer.files));
      });
    })();
    """#
}
