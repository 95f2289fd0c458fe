import type { MetaFunction } from '@remix-run/node';
import { Link } from '@remix-run/react';

export const meta: MetaFunction = () => [
  { title: 'Consentry: your medical records, your consent' },
  {
    name: 'description',
    content:
      'Consentry lets patients keep their medical records, share them with clinicians, and sell access to de-identified data to research studies, with every consent provable on chain.',
  },
];

const ROLES = [
  {
    title: 'Patients',
    to: '/records',
    text: 'Keep your records encrypted under a key only your wallet can derive. Share chosen categories with a clinician for a limited time, revoke at any moment, see who opened what, and get paid when a study you joined uses your de-identified data.',
  },
  {
    title: 'Clinicians',
    to: '/clinician',
    text: 'Ask a patient for the records you need, read exactly what was granted while the grant lasts, and add new records. Accredited emergency staff have a logged break-glass path.',
  },
  {
    title: 'Researchers',
    to: '/research',
    text: 'Publish a study with eligibility criteria and a price per participant, and buy access to a cohort. Every participant proves eligibility with a zero-knowledge proof, so you learn that they qualify, not who they are.',
  },
  {
    title: 'IRB reviewers',
    to: '/irb',
    text: 'Approve studies before they can enroll anyone, and audit the full consent trail of a study: who consented, when, and what was released.',
  },
] as const;

export default function Index() {
  return (
    <div className="page">
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Your medical records. Your consent. Provably.</h1>
        <p className="lead">
          Consentry is a research-data marketplace where patients stay in control. Records are encrypted on your device;
          every grant, release and payment is recorded on a public chain, and no health data, name or key is ever put
          there.
        </p>
        <p>
          <Link className="button button--primary button--large" to="/patient">
            Sign up as a patient
          </Link>
        </p>
      </section>

      <section aria-labelledby="roles-title">
        <h2 id="roles-title">Who it is for</h2>
        <ul className="cards">
          {ROLES.map((r) => (
            <li key={r.title} className="card">
              <h3>
                <Link to={r.to}>{r.title}</Link>
              </h3>
              <p>{r.text}</p>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="how-title">
        <h2 id="how-title">How signing up works</h2>
        <ol className="how">
          <li>Connect a wallet. On a local test chain you can use a development account instead.</li>
          <li>
            Sign one message. It costs nothing; the app turns the signature into your encryption key, in this browser.
          </li>
          <li>Send one transaction that registers the public half of that key. Nothing else about you goes on chain.</li>
          <li>Your status appears as soon as the index has seen the transaction.</li>
        </ol>
      </section>
    </div>
  );
}
