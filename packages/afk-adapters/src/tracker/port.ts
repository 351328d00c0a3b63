import type { Issue } from "@claude-gateway/afk-core";

export interface IssueComment {
  id: number;
  body: string;
  author: string | null;
  createdAt: string;
}

export interface TrackedIssue extends Issue {
  open: boolean;
}

export interface IssueQueries {
  /** Open issues (never pull requests) carrying this one label. */
  listOpenIssues(repo: string, label: string): Promise<Issue[]>;
  /** One issue, fresh (labels and state as of now); null when it does not exist. */
  getIssue(repo: string, number: number): Promise<TrackedIssue | null>;
}

export interface IssueLabels {
  addLabel(repo: string, number: number, label: string): Promise<void>;
  /** Removing a label the issue does not carry is not an error. */
  removeLabel(repo: string, number: number, label: string): Promise<void>;
}

export interface IssueComments {
  /** Oldest first. */
  listComments(repo: string, number: number): Promise<IssueComment[]>;
  createComment(repo: string, number: number, body: string): Promise<IssueComment>;
  editComment(repo: string, commentId: number, body: string): Promise<void>;
}

export interface IssueCloser {
  closeIssue(repo: string, number: number): Promise<void>;
}

/** The tracker port: Forgejo and GitHub implement it, and one conformance suite tests both. */
export interface Tracker extends IssueQueries, IssueLabels, IssueComments, IssueCloser {}
