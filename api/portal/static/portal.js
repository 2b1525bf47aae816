// Progressive enhancement of the verifier form; the form works without this file.
// Drag-and-drop of a file onto the text box, and the camera where the browser has
// BarcodeDetector. Nothing is sent anywhere but the form's own POST.

const form = document.getElementById("verify-form");

function setUpload(files) {
  const upload = document.getElementById("upload");
  if (upload && files && files.length > 0) {
    upload.files = files;
  }
}

function enableDrop(text) {
  text.addEventListener("dragover", (event) => {
    event.preventDefault();
    text.classList.add("dragging");
  });
  text.addEventListener("dragleave", () => text.classList.remove("dragging"));
  text.addEventListener("drop", async (event) => {
    event.preventDefault();
    text.classList.remove("dragging");
    const files = event.dataTransfer ? event.dataTransfer.files : null;
    if (!files || files.length === 0) {
      return;
    }
    const file = files[0];
    if (file.type === "application/json" || file.name.endsWith(".json")) {
      text.value = await file.text();
    } else {
      setUpload(event.dataTransfer.files);
    }
  });
}

function enableCamera(text) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  const box = document.getElementById("scan-box");
  const start = document.getElementById("scan-start");
  const stop = document.getElementById("scan-stop");
  const video = document.getElementById("scan-video");
  let stream = null;
  const halt = () => {
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
    }
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  };
  box.hidden = false;
  start.addEventListener("click", async () => {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    stop.hidden = false;
    start.hidden = true;
    await video.play();
    const look = async () => {
      if (!stream) {
        return;
      }
      const codes = await detector.detect(video);
      const found = codes.find((code) => code.rawValue.startsWith("TB1:"));
      if (found) {
        text.value = found.rawValue;
        halt();
        text.focus();
        return;
      }
      window.setTimeout(look, 250);
    };
    look();
  });
  stop.addEventListener("click", halt);
}

if (form) {
  const text = document.getElementById("text");
  if (text) {
    enableDrop(text);
    enableCamera(text);
  }
}

// The "ask the citizen" page (api/portal/ask.py): reload once the citizen has answered.
// Without this file the page's refresh button does the same.
const status = document.getElementById("ask-status");
if (status && status.dataset.poll) {
  const poll = async () => {
    try {
      const reply = await fetch(status.dataset.poll, {
        credentials: "same-origin",
        cache: "no-store",
      });
      if (reply.ok && (await reply.json()).answered) {
        window.location.reload();
        return;
      }
    } catch (error) {
      // A lost connection: try again at the next tick.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
}
