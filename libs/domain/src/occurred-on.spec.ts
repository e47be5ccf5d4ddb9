import { endOfOccurredOn, isOccurredOn, precisionOf } from './occurred-on';

describe('OccurredOn', () => {
  it.each(['2024', '2024-06', '2024-06-13', '2024-02-29', '0001-01-01'])('accepts %s', (v) => {
    expect(isOccurredOn(v)).toBe(true);
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13', '2024-00', '2024-06-31', '2024-6-1', '24', '2024-06-13T00:00', '', '0000', 2024])(
    'rejects %p',
    (v) => {
      expect(isOccurredOn(v)).toBe(false);
    },
  );

  it('sorts a month before the days of that month, and a year before its months', () => {
    const sorted = ['2024-06-13', '2024-07', '2024', '2024-06', '2023-12-31', '2024-06-01'].sort();
    expect(sorted).toEqual(['2023-12-31', '2024', '2024-06', '2024-06-01', '2024-06-13', '2024-07']);
  });

  it('bounds a range so that every day of the last month is inside it', () => {
    const end = endOfOccurredOn('2024-06');
    expect('2024-06-30' < end && '2024-06' < end && '2024' < end).toBe(true);
    expect('2024-07' < end).toBe(false);
  });

  it('tells the precision', () => {
    expect([precisionOf('2024'), precisionOf('2024-06'), precisionOf('2024-06-13')]).toEqual(['year', 'month', 'day']);
  });
});
