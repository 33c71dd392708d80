// The review of an official certificate: draws every page of the authority's PDF on <canvas>
// beside the fields, with Mozilla's pdf.js (static/vendor/pdfjs, see its README line). The PDF
// is never shown by the browser under our origin (it is an attachment with nosniff): this
// script reads its bytes with fetch() and pdf.js paints them. Without JavaScript, or when
// drawing fails, the page keeps the text read from the PDF and the download link.
//
// pdf.js runs without eval, without WebAssembly (its plain-JS decoders of scanned images come
// from our static folder) and fetches no font or cMap from anywhere: the CSP stays as it is.

function absolute(url) {
  return new URL(url, document.baseURI).href;
}

function pageLabel(template, page, pages) {
  return template.replace("{page}", String(page)).replace("{pages}", String(pages));
}

async function drawPage(pdf, number, container, label) {
  const page = await pdf.getPage(number);
  const unscaled = page.getViewport({ scale: 1 });
  // As wide as the panel, sharp on a high-density screen.
  const cssWidth = Math.max(container.clientWidth, 320);
  const scale = (cssWidth / unscaled.width) * (window.devicePixelRatio || 1);
  const viewport = page.getViewport({ scale });
  const canvas = document.createElement("canvas");
  canvas.className = "pdf-page";
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  container.append(canvas);
  await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
  page.cleanup();
}

async function draw(panel) {
  const pages = panel.querySelector(".pdf-pages");
  const status = panel.querySelector(".pdf-status");
  const text = panel.querySelector(".document-text-details");
  status.hidden = false;
  let task = null;
  try {
    const pdfjs = await import(panel.dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = absolute(panel.dataset.pdfjsWorker);
    const response = await fetch(panel.dataset.pdfUrl, {
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) {
      throw new Error(`document answered ${response.status}`);
    }
    task = pdfjs.getDocument({
      data: new Uint8Array(await response.arrayBuffer()),
      isEvalSupported: false,
      useWasm: false,
      wasmUrl: absolute(panel.dataset.pdfjsWasm),
      useSystemFonts: true,
      enableXfa: false,
    });
    const pdf = await task.promise;
    pages.hidden = false;
    const maxPages = Number(panel.dataset.maxPages) || 1;
    const count = Math.min(pdf.numPages, maxPages);
    for (let number = 1; number <= count; number += 1) {
      const label = pageLabel(panel.dataset.pageLabel, number, pdf.numPages);
      await drawPage(pdf, number, pages, label);
    }
    status.textContent = pdf.numPages > maxPages ? panel.dataset.moreText : "";
    status.hidden = pdf.numPages <= maxPages;
    if (text) {
      text.open = false; // the pages say it: the text stays one click away
    }
    panel.dataset.pdfState = "drawn";
  } catch (error) {
    pages.replaceChildren();
    pages.hidden = true;
    status.textContent = panel.dataset.failedText;
    status.hidden = false;
    panel.dataset.pdfState = "failed";
    console.warn("The PDF could not be drawn:", error);
  } finally {
    if (task !== null) {
      task.destroy(); // ends the worker; the canvases keep their pixels
    }
  }
}

const panel = document.querySelector(".review-document[data-pdf-url]");
if (panel) {
  draw(panel);
}
