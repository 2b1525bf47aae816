// Progressive enhancement of the verifier form; the form works without this file.
// Drag-and-drop of a file onto the text box, and the camera where the browser has one.
// Nothing is sent anywhere but the form's own POST and, while the camera scans without
// BarcodeDetector, its frames to POST /scan (decoded, never kept).

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

// Camera scanning: in the page where BarcodeDetector reads QR codes (Chrome on Android,
// macOS); elsewhere (desktop Chromium on Linux and Windows, the counter PC) a frame is
// sent to POST /scan every SCAN_EVERY_MS and decoded on the server by the same decoder
// as an uploaded image. One frame in flight at a time; the camera stops after SCAN_FOR_MS.
const SCAN_EVERY_MS = 400;
const SCAN_FOR_MS = 60000;
const FRAME_SIDE = 1280;

async function pageDetector() {
  if (!("BarcodeDetector" in window)) {
    return null;
  }
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) {
      return null;
    }
  } catch (error) {
    return null;
  }
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  return async (video) => {
    const codes = await detector.detect(video);
    const found = codes.find((code) => code.rawValue.startsWith("TB1:"));
    return found ? found.rawValue : null;
  };
}

function serverDetector(token) {
  const canvas = document.createElement("canvas");
  return async (video) => {
    const scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const frame = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
    if (!frame) {
      return null;
    }
    const reply = await fetch("/scan", {
      method: "POST",
      body: frame,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "image/jpeg", "X-CSRF-Token": token, Accept: "application/json" },
    });
    if (!reply.ok) {
      throw new Error(`scan refused: ${reply.status}`);
    }
    const answer = await reply.json();
    return answer.found && typeof answer.text === "string" ? answer.text : null;
  };
}

function enableCamera(text) {
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    return;
  }
  const box = document.getElementById("scan-box");
  const start = document.getElementById("scan-start");
  const stop = document.getElementById("scan-stop");
  const video = document.getElementById("scan-video");
  const status = document.getElementById("scan-status");
  const token = form.querySelector('input[name="csrf_token"]');
  const submit = form.querySelector('button[type="submit"]');
  if (!box || !start || !stop || !video || !status || !token) {
    return;
  }
  let stream = null;
  let timer = null;
  const say = (words) => {
    status.textContent = words || "";
  };
  const halt = (words) => {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
    }
    video.srcObject = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
    say(words);
  };
  box.hidden = false;
  start.addEventListener("click", async () => {
    const detect = (await pageDetector()) || serverDetector(token.value);
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      halt(box.dataset.refused);
      return;
    }
    const scanning = stream;
    video.srcObject = stream;
    video.hidden = false;
    stop.hidden = false;
    start.hidden = true;
    say(box.dataset.looking);
    try {
      await video.play();
    } catch (error) {
      halt(box.dataset.refused);
      return;
    }
    const deadline = Date.now() + SCAN_FOR_MS;
    const look = async () => {
      timer = null;
      if (stream !== scanning) {
        return;
      }
      if (Date.now() > deadline) {
        halt(box.dataset.timeout);
        return;
      }
      let value = null;
      if (video.videoWidth > 0) {
        try {
          value = await detect(video);
        } catch (error) {
          if (stream === scanning) {
            halt(box.dataset.failed);
          }
          return;
        }
      }
      if (stream !== scanning) {
        return;
      }
      if (value) {
        text.value = value;
        halt(box.dataset.found);
        if (submit) {
          submit.focus();
        }
        return;
      }
      timer = window.setTimeout(look, SCAN_EVERY_MS);
    };
    look();
  });
  stop.addEventListener("click", () => halt(""));
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
