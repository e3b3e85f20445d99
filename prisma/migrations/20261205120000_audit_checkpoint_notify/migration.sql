-- Wakes the console's audit checkpointer (server/services/audit/start-audit-checkpointer.ts) when
-- an event worth a prompt checkpoint commits: NOTIFY is delivered only on commit, so a rolled-back
-- event wakes nobody. High-volume actions (each rollout host step, sign-ins) are left to the
-- periodic checkpoint (KEEL_AUDIT_CHECKPOINT_SECONDS). See docs/audit.md.
CREATE FUNCTION "audit_events_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('keel_audit', NEW.action);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "audit_events_notify" AFTER INSERT ON "audit_events"
  FOR EACH ROW WHEN (NEW.action NOT IN ('rollout.host_step', 'auth.sign_in', 'auth.sign_in_failed', 'auth.sign_out'))
  EXECUTE FUNCTION "audit_events_notify"();
