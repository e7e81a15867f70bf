// Asks once per key and remembers the answer; a failure is forgotten, so the
// next call asks again. For the OS accounts a node's runs use.

export class SettledOnce<T> {
  private readonly answers = new Map<string, Promise<T>>();

  get(key: string, ask: () => Promise<T>): Promise<T> {
    let answer = this.answers.get(key);
    if (!answer) {
      answer = ask();
      this.answers.set(key, answer);
      answer.catch(() => this.answers.delete(key));
    }
    return answer;
  }
}
