// Search, as progressive enhancement: the page works without it. Pagefind's
// index is built per language (from <html lang>), with Finnish and Swedish stemming.
// A classic script (Pagefind is loaded with import()): a module would not run at all
// on a page opened from disk, and the page would not say that search is off.
const box = document.getElementById("search-results");
const form = document.querySelector(".search-page-form");
const input = document.getElementById("search-page-q");

function say(text) {
  box.replaceChildren();
  const p = document.createElement("p");
  p.textContent = text;
  box.appendChild(p);
}

// Pagefind's excerpts mark the hits with <mark>; keep that and nothing else.
function excerpt(html) {
  const out = document.createElement("p");
  html.split(/(<mark>.*?<\/mark>)/).forEach((part) => {
    const hit = part.match(/^<mark>(.*)<\/mark>$/);
    const text = document.createElement("textarea");
    text.innerHTML = hit ? hit[1] : part; // decodes entities without running anything
    if (hit) {
      const mark = document.createElement("mark");
      mark.textContent = text.value;
      out.appendChild(mark);
    } else {
      out.appendChild(document.createTextNode(text.value));
    }
  });
  return out;
}

async function run(query) {
  let pagefind;
  try {
    pagefind = await import(new URL(box.dataset.bundle, document.baseURI).href);
    await pagefind.options({ baseUrl: new URL(box.dataset.root, document.baseURI).pathname });
  } catch (error) {
    say(box.dataset.unavailable);
    return;
  }
  const search = await pagefind.search(query);
  const pages = await Promise.all(search.results.slice(0, 20).map((r) => r.data()));
  const hits = [];
  for (const page of pages) {
    // One result per response: each response is a heading with an id on its section page.
    const subs = page.sub_results.filter((s) => s.url.includes("#"));
    for (const sub of subs.length ? subs : [page]) {
      hits.push({ url: sub.url, unit: sub.title, section: page.meta.title, excerpt: sub.excerpt });
    }
  }
  box.replaceChildren();
  const count = document.createElement("p");
  count.textContent = hits.length ? box.dataset.results.replace("{count}", hits.length) : box.dataset.noResults;
  box.appendChild(count);
  const list = document.createElement("ol");
  list.className = "search-hits";
  for (const hit of hits) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = hit.url;
    link.textContent = hit.section;
    const unit = document.createElement("span");
    unit.className = "search-unit";
    unit.textContent = hit.unit;
    item.append(link, unit, excerpt(hit.excerpt));
    list.appendChild(item);
  }
  box.appendChild(list);
}

const query = new URLSearchParams(window.location.search).get("q");
if (window.location.protocol === "file:") {
  say(box.dataset.unavailable); // opened from disk: browsers load no search index from there
} else if (query) {
  input.value = query;
  run(query);
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (!q) { return; }
  history.replaceState(null, "", "?q=" + encodeURIComponent(q));
  run(q);
});
