/** The in-memory state behind the fake Forgejo and GitHub servers (and what tests assert on). */

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
}

export interface FakeComment {
  id: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labelIds: number[];
  createdAt: string;
  updatedAt: string;
  isPull: boolean;
  comments: FakeComment[];
}

export interface FakeStatus {
  id: number;
  context: string;
  /** Raw, as the server's API spells it (Forgejo: + `warning`). */
  state: string;
  targetUrl: string | null;
  description: string | null;
  createdAt: string;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  htmlUrl: string;
  title: string | null;
}

export interface FakeRepo {
  name: string;
  labels: FakeLabel[];
  issues: FakeIssue[];
  statuses: Map<string, FakeStatus[]>;
  checkRuns: Map<string, FakeCheckRun[]>;
}

export const AFK_LABELS = [
  "ready-for-agent",
  "agent-in-progress",
  "ready-for-human",
  "agent-stalled",
  "P0",
  "P1",
  "P2",
  "P3",
  "bug",
];

export class TrackerStore {
  readonly repos = new Map<string, FakeRepo>();
  private nextId = 100;
  constructor(
    private readonly now: () => Date = () => new Date(),
    readonly botLogin = "afk-bot",
  ) {}

  id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  addRepo(name: string, labels: readonly string[] = AFK_LABELS): FakeRepo {
    const repo: FakeRepo = {
      name,
      labels: labels.map((l) => ({ id: this.id(), name: l, color: "ededed" })),
      issues: [],
      statuses: new Map(),
      checkRuns: new Map(),
    };
    this.repos.set(name, repo);
    return repo;
  }

  repo(name: string): FakeRepo {
    const repo = this.repos.get(name);
    if (!repo) throw new Error(`fake tracker: no repo ${name}`);
    return repo;
  }

  /** The label's id, created in the repository when asked to (GitHub does that on add). */
  labelId(repoName: string, label: string, create = false): number | null {
    const repo = this.repo(repoName);
    const found = repo.labels.find((l) => l.name === label);
    if (found) return found.id;
    if (!create) return null;
    const created = { id: this.id(), name: label, color: "ededed" };
    repo.labels.push(created);
    return created.id;
  }

  addIssue(
    repoName: string,
    input: { title: string; body?: string; labels?: string[]; createdAt?: string; isPull?: boolean },
  ): number {
    const repo = this.repo(repoName);
    const number = repo.issues.length + 1;
    const at = input.createdAt ?? this.now().toISOString();
    repo.issues.push({
      number,
      title: input.title,
      body: input.body ?? "",
      state: "open",
      labelIds: (input.labels ?? []).map((l) => this.labelId(repoName, l, true)!),
      createdAt: at,
      updatedAt: at,
      isPull: input.isPull ?? false,
      comments: [],
    });
    return number;
  }

  issue(repoName: string, number: number): FakeIssue | undefined {
    return this.repo(repoName).issues.find((i) => i.number === number);
  }

  labelsOf(repoName: string, number: number): string[] {
    const repo = this.repo(repoName);
    const issue = this.issue(repoName, number);
    return (issue?.labelIds ?? []).map((id) => repo.labels.find((l) => l.id === id)?.name ?? `#${id}`);
  }

  comments(repoName: string, number: number): FakeComment[] {
    return this.issue(repoName, number)?.comments ?? [];
  }

  addComment(repoName: string, number: number, body: string, user = this.botLogin): FakeComment {
    const issue = this.issue(repoName, number);
    if (!issue) throw new Error(`fake tracker: no issue ${repoName}#${number}`);
    const at = this.now().toISOString();
    const comment = { id: this.id(), body, user, createdAt: at, updatedAt: at };
    issue.comments.push(comment);
    return comment;
  }

  commentById(repoName: string, id: number): FakeComment | undefined {
    return this.repo(repoName)
      .issues.flatMap((i) => i.comments)
      .find((c) => c.id === id);
  }

  editComment(comment: FakeComment, body: string): FakeComment {
    comment.body = body;
    comment.updatedAt = this.now().toISOString();
    return comment;
  }

  /** A commit status as CI posts it (the latest per context wins in the combined view). */
  setStatus(
    repoName: string,
    sha: string,
    context: string,
    state: string,
    extra: { targetUrl?: string; description?: string } = {},
  ): void {
    const repo = this.repo(repoName);
    const list = repo.statuses.get(sha) ?? [];
    list.push({
      id: this.id(),
      context,
      state,
      targetUrl: extra.targetUrl ?? `https://ci.example/${context}`,
      description: extra.description ?? null,
      createdAt: this.now().toISOString(),
    });
    repo.statuses.set(sha, list);
  }

  /** The combined view: latest status per context. */
  latestStatuses(repoName: string, sha: string): FakeStatus[] {
    const latest = new Map<string, FakeStatus>();
    for (const s of this.repo(repoName).statuses.get(sha) ?? []) latest.set(s.context, s);
    return [...latest.values()];
  }

  setCheckRun(
    repoName: string,
    sha: string,
    name: string,
    status: FakeCheckRun["status"],
    conclusion: string | null = null,
    title: string | null = null,
  ): void {
    const repo = this.repo(repoName);
    const list = (repo.checkRuns.get(sha) ?? []).filter((r) => r.name !== name);
    list.push({
      id: this.id(),
      name,
      status,
      conclusion,
      htmlUrl: `https://github.example/runs/${name}`,
      title,
    });
    repo.checkRuns.set(sha, list);
  }

  touch(issue: FakeIssue): void {
    issue.updatedAt = this.now().toISOString();
  }
}
