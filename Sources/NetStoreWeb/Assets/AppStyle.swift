/// The stylesheet: system fonts, light and dark, a table that folds on phones.
enum AppStyle {
    static let source = #"""
    :root {
      --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --card: #fff; --line: #e4e7ec;
      --accent: #2f6fed; --accent-fg: #fff; --danger: #c4320a; --ok: #12805c; --hover: #f0f4ff;
      --radius: 10px;
      color-scheme: light dark;
    }
    @media (prefers-color-scheme: dark) {
      :root { --bg: #111418; --fg: #e6e8eb; --muted: #98a2b3; --card: #1a1f26; --line: #2b323c; --hover: #1f2a3d; --accent: #5b8cff; }
    }
    * { box-sizing: border-box; }
    html { -webkit-text-size-adjust: 100%; }
    body { margin: 0; background: var(--bg); color: var(--fg);
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    h1 { font-size: 1.4rem; margin: 0 0 .75rem; word-break: break-word; }
    h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
    code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
    .top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; flex-wrap: wrap;
      padding: .65rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line); }
    .brand { display: flex; align-items: center; gap: .5rem; font-weight: 700; font-size: 1.05rem; color: var(--fg); }
    .brand:hover { text-decoration: none; }
    .user { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
    .user a { color: var(--fg); }
    .who { color: var(--muted); }
    main { max-width: 1100px; margin: 0 auto; padding: 1.25rem; }
    .icon { width: 1.25rem; height: 1.25rem; flex: none; vertical-align: middle; }
    .icon.logo { width: 1.5rem; height: 1.5rem; color: var(--accent); }
    .icon.ui { width: 1.1rem; height: 1.1rem; }
    .k-dir { fill: #f2b441; } .k-other { fill: #98a2b3; } .k-text { fill: #667085; } .k-code { fill: #0e9384; }
    .k-image { fill: #7a5af8; } .k-pdf { fill: #d92d20; } .k-audio { fill: #dd2590; } .k-video { fill: #e04f16; }
    .k-archive { fill: #b54708; } .k-link { fill: #2e90fa; }
    .crumbs { display: flex; flex-wrap: wrap; align-items: center; gap: .35rem; margin-bottom: 1rem; font-size: 1.05rem; word-break: break-word; }
    .crumbs .sep { color: var(--muted); }
    .crumbs span[aria-current] { font-weight: 600; }
    button, .button { display: inline-flex; align-items: center; gap: .4rem; padding: .45rem .9rem; border-radius: 8px;
      border: 1px solid var(--line); background: var(--card); color: var(--fg); font: inherit; cursor: pointer; line-height: 1.3; }
    button:hover, .button:hover { background: var(--hover); text-decoration: none; }
    .primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
    .primary:hover { background: var(--accent); filter: brightness(1.08); }
    .danger { color: var(--danger); }
    button.danger { border-color: var(--danger); }
    .small { padding: .25rem .6rem; font-size: .9rem; }
    button.link { background: none; border: none; padding: 0; color: var(--accent); }
    input, select { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 8px;
      background: var(--card); color: var(--fg); min-width: 0; }
    input:focus, select:focus, button:focus-visible, a:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
    form.inline { display: inline-flex; gap: .4rem; align-items: center; margin: 0; }
    .tools { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; justify-content: space-between; margin-bottom: 1rem; }
    .mkdir { display: flex; gap: .5rem; flex: 1 1 280px; justify-content: flex-end; }
    .mkdir input { flex: 0 1 16rem; }
    .upload-button { cursor: pointer; }
    .dropzone { position: fixed; inset: 0; z-index: 10; display: flex; align-items: center; justify-content: center;
      background: rgba(47,111,237,.12); border: 3px dashed var(--accent); font-size: 1.4rem; font-weight: 600; color: var(--accent); }
    .dropzone[hidden] { display: none; }
    .uploads { list-style: none; padding: 0; margin: 0 0 1rem; display: grid; gap: .4rem; }
    .uploads li { display: grid; grid-template-columns: minmax(0, 1fr) 10rem auto; gap: .75rem; align-items: center;
      background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .4rem .75rem; }
    .uploads .upload-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .uploads progress { width: 100%; accent-color: var(--accent); }
    .uploads .done .upload-status { color: var(--ok); }
    .uploads .failed .upload-status { color: var(--danger); }
    .upload-status { font-size: .9rem; color: var(--muted); }
    table.listing { width: 100%; border-collapse: separate; border-spacing: 0; background: var(--card);
      border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden; }
    .listing th, .listing td { padding: .55rem .75rem; text-align: left; border-bottom: 1px solid var(--line); }
    .listing tbody tr:last-child td { border-bottom: none; }
    .listing th { font-size: .85rem; font-weight: 600; color: var(--muted); background: var(--bg); }
    .listing th a { color: var(--muted); }
    .listing tbody tr:hover { background: var(--hover); }
    .listing .name { word-break: break-word; }
    .listing .name a { color: var(--fg); font-weight: 500; }
    .listing .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
    .listing .date { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
    .icon-col { width: 2.25rem; padding-right: 0 !important; }
    .actions-col { white-space: nowrap; text-align: right !important; }
    .act { display: inline-flex; padding: .3rem; border-radius: 6px; color: var(--muted); }
    .act:hover { background: var(--line); color: var(--fg); }
    .act.danger:hover { color: var(--danger); }
    .empty { text-align: center !important; color: var(--muted); padding: 2rem !important; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    .pager { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; justify-content: flex-end; margin-top: .75rem; color: var(--muted); }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.25rem 1.5rem; margin: 1rem 0; }
    .card label { display: grid; gap: .3rem; margin-bottom: .9rem; font-weight: 500; }
    .card.login { max-width: 24rem; margin: 3rem auto; }
    .card.login button { width: 100%; justify-content: center; }
    .card.error { max-width: 36rem; margin: 3rem auto; }
    .form-actions { display: flex; gap: .6rem; }
    form.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem; align-items: end; }
    form.grid label { margin: 0; }
    form.grid button { justify-content: center; }
    .alert { background: #fef3f2; color: #b42318; border: 1px solid #fecdca; border-radius: 8px; padding: .6rem .8rem; }
    .notice { background: var(--hover); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
    .message { word-break: break-word; }
    .file-head { display: grid; gap: .4rem; margin-bottom: 1rem; }
    .file-title { display: flex; align-items: center; gap: .6rem; }
    .file-title .icon { width: 2rem; height: 2rem; }
    .file-title h1 { margin: 0; }
    .meta { margin: 0; color: var(--muted); }
    .file-actions { display: flex; flex-wrap: wrap; gap: .5rem; }
    .preview { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem; overflow: auto; }
    .preview img, .preview video { display: block; max-width: 100%; max-height: 75vh; margin: 0 auto; }
    .preview audio { width: 100%; }
    .preview iframe { width: 100%; height: 78vh; border: none; }
    .preview pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: .9rem; }
    .tag { font-size: .75rem; background: var(--hover); border: 1px solid var(--line); border-radius: 999px; padding: 0 .5rem; }
    .ok { color: var(--ok); font-weight: 600; } .bad { color: var(--danger); font-weight: 600; }
    .warn { color: #b54708; font-weight: 600; } .hint { color: var(--muted, #667085); font-size: .85rem; }
    .scroll { overflow-x: auto; }
    .admin-actions { display: flex; flex-wrap: wrap; gap: .5rem; }
    .admin-actions input { width: 10rem; }
    @media (max-width: 640px) {
      main { padding: .75rem; }
      .top { padding: .6rem .75rem; }
      .listing .date, .listing th.date { display: none; }
      .listing th, .listing td { padding: .5rem .45rem; }
      .mkdir { justify-content: stretch; }
      .mkdir input { flex: 1 1 auto; }
      .uploads li { grid-template-columns: minmax(0, 1fr) 6rem; }
      .uploads .upload-status { grid-column: 1 / -1; }
      .act { padding: .35rem .2rem; }
    }
    """#
}
