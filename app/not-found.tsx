// Rendered with HTTP 404 for a path the console does not have.
import { StatusPage } from "./_components/status-page";

export default function NotFound() {
  return <StatusPage status={404} title="No such page" />;
}
