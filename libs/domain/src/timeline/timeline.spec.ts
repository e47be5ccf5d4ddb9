import { TimelineAlreadyExistsError } from '../domain.errors';
import { specification } from '../testing/decider-specification';
import { timelineDecider } from './timeline';

const given = specification(timelineDecider);
const open = { type: 'OpenTimeline' as const, slug: 'japan-ukraine-support', title: 'Japan and Ukraine', description: '' };
const opened = { type: 'TimelineOpened' as const, data: { slug: open.slug, title: open.title, description: '' } };

describe('a timeline', () => {
  it('opens', () => given([]).when(open).then([opened]));
  it('opens only once', () => given([opened]).when(open).thenThrows(TimelineAlreadyExistsError));
});
